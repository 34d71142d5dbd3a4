package dev.curvlab.nn.products;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * {@code C = op(A) op(B) + beta C} split into pieces that OpenBLAS runs on the calling thread, shared
 * by the calling thread and one helper thread. Why: OpenBLAS threads a product above
 * {@code 65536 * OPENBLAS_GEMM_MULTITHREAD_THRESHOLD} (262,144) multiply-adds by its own
 * partitioning, which on this project's 2-core machines made the layer engine's skinny products
 * slower than one thread (256 x 65 x 64: 60 us with two threads, 49 us with one; 20000 x 65 x 64:
 * 5.2 ms and 5.1 ms), and setting OpenBLAS's thread count costs ~0.7 ms a call. Pieces of at most
 * {@link #PIECE_MADDS} each run single-threaded inside OpenBLAS, two at a time (256 x 65 x 64 in
 * 31-37 us, 20000 x 65 x 64 in 2.7-2.9 ms).
 * <p>Pieces ({@link #layout}): bands of whole rows of C, with the whole inner dimension (every
 * element of C is one BLAS dot product as before), when the inner dimension is at most
 * {@link #BAND_MAX_INNER} and a band holds {@link #MIN_BAND_ROWS} rows; otherwise slices of the inner
 * dimension when C is small, the helper's summed into a scratch matrix that is added to C at the end
 * (one daxpy); otherwise no split (narrower tiles of a wide C re-pack B for every piece: 256 x 65 x
 * 1024 in 126-column tiles took 0.8-0.9 ms, OpenBLAS's own threads 0.5 ms). Pieces come from a
 * shared counter, so a helper that wakes late only takes what is left.
 * <p>The helper is one daemon thread for the process (none on one core). After each job it spins for
 * {@link #SPIN_NANOS} (a pass issues its products microseconds apart), yields for
 * {@link #YIELD_NANOS}, then parks.
 * A caller that finds it busy with another caller's job runs the product unsplit.
 */
final class SplitGemm {
    /** OpenBLAS runs a product of at most this many multiply-adds on the calling thread. */
    static final long PIECE_MADDS = 65536L * openblas_nolapack.OPENBLAS_GEMM_MULTITHREAD_THRESHOLD;
    /** Products of fewer multiply-adds are not split (a piece would be shorter than the hand-over). */
    static final long MIN_MADDS = PIECE_MADDS / 2;
    /** Bands need at most this inner dimension (then a piece has at least PIECE_MADDS / 256 = 1024 elements of C). */
    static final int BAND_MAX_INNER = 256;
    /** Bands have at least this many rows (thinner ones re-pack B for too little work). */
    static final int MIN_BAND_ROWS = 4;
    /** Inner-dimension slices have at least this length (C small enough: m n <= PIECE_MADDS / this). */
    static final int MIN_SLICE = 32;
    /** After a job the helper spins this long, */
    static final long SPIN_NANOS = 50_000;
    /** then yields its core in a loop this long (a woken thread took 0.1-0.3 ms to start here), then parks. */
    static final long YIELD_NANOS = 5_000_000;
    private static final Helper HELPER = Runtime.getRuntime().availableProcessors() >= 2 ? new Helper() : null;

    private SplitGemm() {
    }

    /** How a product is split: bands of {@code bandRows} whole rows of C, or (when {@code slice > 0}) slices of the inner dimension. */
    record Layout(int bandRows, int slice) {
    }

    /**
     * The split of an {@code [m, inner] x [inner, n]} product, or null when it is not split: too
     * small ({@link #MIN_MADDS}), or C too wide for bands and too large for slices.
     */
    static Layout layout(int m, int inner, int n) {
        long madds = (long) m * n * inner;
        if (madds < MIN_MADDS) {
            return null;
        }
        long pieceMadds = Math.min(PIECE_MADDS, madds / 2);
        if (inner <= BAND_MAX_INNER) {
            long area = pieceMadds / inner;
            return area < (long) MIN_BAND_ROWS * n ? null : new Layout((int) Math.min(m, area / n), 0);
        }
        if ((long) m * n * MIN_SLICE <= PIECE_MADDS) {
            return new Layout(m, (int) Math.min(inner, Math.max(MIN_SLICE, pieceMadds / ((long) m * n))));
        }
        return null;
    }

    /**
     * True when OpenBLAS keeps this product on one thread: small enough, or split here. An owner
     * whose products all pass this turns the split on ({@link Gemm#Gemm(boolean)}); mixing split
     * products with OpenBLAS-threaded ones makes each side's spinning threads slow the other down
     * (4096 x 64 x 64 split: 0.48 ms alone, 1.4 ms right after OpenBLAS-threaded products).
     */
    static boolean keepsOneBlasThread(int m, int inner, int n) {
        return (long) m * n * inner <= PIECE_MADDS || layout(m, inner, n) != null;
    }

    /**
     * Runs the product split ({@link #layout}) when the helper is free and returns true; returns
     * false, having done nothing, otherwise. {@code scratch} must hold {@code m * n} elements when
     * the inner dimension is sliced. C must be whole rows ({@code c.cols == n}).
     */
    static boolean run(Matrix a, boolean ta, Matrix b, boolean tb, Matrix c, double beta, int m, int inner, int n, Matrix scratch) {
        Layout layout = c.cols == n ? layout(m, inner, n) : null;
        if (layout == null || (layout.slice() > 0 && scratch == null) || HELPER == null || !HELPER.claim()) {
            return false;
        }
        Job job = new Job(new Operands(a, ta, b, tb, c, beta, m, inner, n), layout, scratch);
        try {
            HELPER.hand(job);
            job.work(false);
            job.awaitPieces();
        } finally {
            HELPER.release();
        }
        job.addHelperSlices();
        return true;
    }

    /** The product's operands and dimensions. */
    private record Operands(Matrix a, boolean ta, Matrix b, boolean tb, Matrix c, double beta, int m, int inner, int n) {
        /** One BLAS call on the operands at the pointers' positions. */
        void blas(DoublePointer pa, DoublePointer pb, DoublePointer pc, int rows, int depth, double pieceBeta) {
            openblas_nolapack.cblas_dgemm(openblas_nolapack.CblasRowMajor, ta ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                    tb ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans, rows, n, depth, 1.0, pa, a.cols, pb, b.cols, pieceBeta, pc,
                    n);
        }
    }

    /** One split product: its pieces and the counters both threads take them from. */
    private static final class Job {
        private final Operands op;
        private final Matrix scratch;
        private final int bandRows;
        /** Inner-dimension slice length; 0 for bands of C. */
        private final int slice;
        private final int pieces;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private volatile boolean helperSliced;

        Job(Operands op, Layout layout, Matrix scratch) {
            this.op = op;
            this.scratch = scratch;
            this.bandRows = layout.bandRows();
            this.slice = layout.slice();
            this.pieces = slice > 0 ? (op.inner() + slice - 1) / slice : (op.m() + bandRows - 1) / bandRows;
            if (slice > 0) {
                next.set(1);   // slice 0 is the caller's, first, so that beta reaches C exactly once
            }
        }

        /** Takes and runs pieces until none is left (the helper's slices go to the scratch matrix). */
        void work(boolean helper) {
            DoublePointer pa = new DoublePointer(op.a().pointer);
            DoublePointer pb = new DoublePointer(op.b().pointer);
            DoublePointer pc = new DoublePointer(helper && slice > 0 ? scratch.pointer : op.c().pointer);
            boolean first = true;
            int piece = helper || slice == 0 ? next.getAndIncrement() : 0;
            while (piece < pieces) {
                if (slice > 0) {
                    slicePiece(piece, pa, pb, pc, first ? (helper ? 0.0 : op.beta()) : 1.0);
                    if (helper) {
                        helperSliced = true;
                    }
                } else {
                    bandPiece(piece, pa, pc);
                    op.blas(pa, pb, pc, Math.min(bandRows, op.m() - piece * bandRows), op.inner(), op.beta());
                }
                first = false;
                done.incrementAndGet();
                piece = next.getAndIncrement();
            }
        }

        /** Positions A and C at band {@code piece}: rows {@code [piece * bandRows, ...)} of op(A) and C. */
        private void bandPiece(int piece, DoublePointer pa, DoublePointer pc) {
            long r0 = (long) piece * bandRows;
            pa.position(op.a().pointer.position() + (op.ta() ? r0 : r0 * op.a().cols));
            pc.position(op.c().pointer.position() + r0 * op.n());
        }

        /** {@code pc (+)= op(A)[:, k0:k1] op(B)[k0:k1, :]} for slice {@code piece}. */
        private void slicePiece(int piece, DoublePointer pa, DoublePointer pb, DoublePointer pc, double pieceBeta) {
            long k0 = (long) piece * slice;
            pa.position(op.a().pointer.position() + (op.ta() ? k0 * op.a().cols : k0));
            pb.position(op.b().pointer.position() + (op.tb() ? k0 : k0 * op.b().cols));
            op.blas(pa, pb, pc, op.m(), (int) Math.min(slice, op.inner() - k0), pieceBeta);
        }

        void awaitPieces() {
            while (done.get() < pieces) {
                Thread.onSpinWait();
            }
        }

        /** {@code C += scratch} when the helper summed slices there. */
        void addHelperSlices() {
            if (helperSliced) {
                openblas_nolapack.cblas_daxpy(op.m() * op.n(), 1.0, scratch.pointer, 1, op.c().pointer, 1);
            }
        }
    }

    /** The helper thread: takes handed jobs, spins a while after each, then parks. */
    private static final class Helper implements Runnable {
        private final AtomicBoolean claimed = new AtomicBoolean();
        private final AtomicReference<Job> pending = new AtomicReference<>();
        private final Thread thread;
        private volatile boolean parked;

        Helper() {
            thread = new Thread(this, "curvlab-gemm-helper");
            thread.setDaemon(true);
            thread.start();
        }

        boolean claim() {
            return claimed.compareAndSet(false, true);
        }

        void release() {
            claimed.set(false);
        }

        void hand(Job job) {
            pending.set(job);
            if (parked) {
                LockSupport.unpark(thread);
            }
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            while (true) {
                Job job = pending.get() == null ? null : pending.getAndSet(null);
                if (job != null) {
                    job.work(true);
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else if (System.nanoTime() - idleSince < YIELD_NANOS) {
                    Thread.yield();
                } else {
                    parked = true;
                    if (pending.get() == null) {
                        LockSupport.park(this);
                    }
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}
