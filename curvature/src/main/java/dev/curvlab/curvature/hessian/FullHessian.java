package dev.curvlab.curvature.hessian;

import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.LinearOperator;
import dev.curvlab.curvature.progress.ProgressListener;
import java.io.IOException;
import java.nio.file.Path;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dense {@code [N, N]} matrix of a curvature operator (the seed's {@code get_full_hessian},
 * made fast and safe). Before any work, a memory preflight compares N^2 x 8 bytes plus working
 * memory with the budget and refuses with the alternatives when it cannot fit. Columns are computed
 * in blocks of k (one forward-over-reverse pass per block), or by the structured method for dense
 * networks; progress goes to a {@link ProgressListener}; with an output file the blocks stream to
 * a unique hidden {@code .FILE.<random>.partial} (or a checkpoint directory, resumable) and the file gets its final name only
 * when complete.
 *
 * <p>Block j's columns {@code H[:, J]} are stored as rows J (the matrix is symmetric); the
 * asymmetry {@code max |H - H^T|} of the computed matrix is reported, and {@link Options#symmetrize}
 * replaces it by {@code (H + H^T) / 2}.
 */
public final class FullHessian {
    private static final Logger LOG = LoggerFactory.getLogger(FullHessian.class);

    private FullHessian() {
    }

    /** Settings; all optional. */
    public static final class Options {
        HessianMethod method = HessianMethod.AUTO;
        int blockSize;
        MemoryBudget budget = MemoryBudget.defaultBudget();
        Path out;
        Path checkpoint;
        ProgressListener progress = ProgressListener.NONE;
        boolean symmetrize;

        public Options method(HessianMethod m) {
            this.method = m;
            return this;
        }

        /** Columns per pass; 0 chooses from the memory budget. */
        public Options blockSize(int k) {
            if (k < 0) {
                throw new IllegalArgumentException("block size must be >= 0, got " + k);
            }
            this.blockSize = k;
            return this;
        }

        public Options budget(MemoryBudget b) {
            this.budget = b;
            return this;
        }

        /** Writes the matrix to this {@code .npy} file (streamed when it does not fit in memory). */
        public Options out(Path file) {
            this.out = file;
            return this;
        }

        /** Keeps resumable progress in this directory. */
        public Options checkpoint(Path dir) {
            this.checkpoint = dir;
            return this;
        }

        public Options progress(ProgressListener p) {
            this.progress = p;
            return this;
        }

        public Options symmetrize(boolean s) {
            this.symmetrize = s;
            return this;
        }
    }

    /**
     * The outcome: the matrix (null when it was only streamed to {@code file}; when it was also
     * written to {@code file}, possibly a copy-on-write mapping of it, which changes never reach),
     * and how it was made.
     */
    public record Result(INDArray matrix, Path file, HessianMethod method, int blockSize, double seconds, double asymmetry,
            boolean resumed) {
    }

    /** Computes the dense matrix of {@code op}. */
    public static Result compute(LinearOperator op, Options o) throws IOException {
        long n = op.size();
        HessianMethod method = o.method;
        if (method == HessianMethod.AUTO) {
            method = StructuredHessian.supports(op) ? HessianMethod.STRUCTURED : HessianMethod.BLOCKED;
        } else if (method == HessianMethod.STRUCTURED && !StructuredHessian.supports(op)) {
            throw new IllegalArgumentException("the structured method needs the Hessian, GGN or observed Fisher of a Sequential dense network"
                    + " with a built-in loss; got " + op.getClass().getSimpleName() + " (use --method blocked)");
        }
        double perColumn = workingBytesPerColumn(op);
        int k = method == HessianMethod.ROWLOOP ? 1 : o.blockSize > 0 ? (int) Math.min(o.blockSize, n) : autoBlock(n, perColumn, o.budget, rowsTimesWidth(op));
        Plan plan = preflight(n, k, perColumn, method, o);
        long start = System.nanoTime();
        Result r = method == HessianMethod.STRUCTURED ? StructuredHessian.compute(op, plan, o) : blocked(op, n, k, plan, o, method);
        LOG.info("hessian: N = {} by {} in {} s{}", n, method.name().toLowerCase(), String.format("%.3f", (System.nanoTime() - start) / 1e9),
                r.matrix() != null ? String.format(", max |H - H^T| = %.2e", r.asymmetry()) : "");
        return r;
    }

    /** What the preflight decided. */
    record Plan(boolean inMemory, Path partial, HessianCheckpoint checkpoint) {
    }

    /**
     * Columns per forward-over-reverse pass: within a quarter of the budget (at most 2 GB) of
     * working memory, and small enough that each tangent array of a hidden layer stays within
     * glibc's 32 MB reuse threshold (larger arrays are fresh mappings, paid for in page faults on
     * every operation: 128 columns ran the 20-64-64-3 Hessian twice as fast as 512).
     */
    static int autoBlock(long n, double perColumn, MemoryBudget budget, long rowsTimesWidth) {
        double work = Math.min(budget.bytes() / 4.0, 2.0 * (1L << 30));
        long k = (long) Math.max(1, work / perColumn);
        long reuse = Math.max(16, (2L << 20) / Math.max(1, rowsTimesWidth));
        if (n <= 64) {
            return (int) n;   // one pass; nothing to gain from splitting a handful of columns
        }
        return (int) Math.min(n, Math.min(Math.min(k, reuse), 512));
    }

    /** Rows of one batch times the widest layer: the size of one tangent column of a hidden activation. */
    static long rowsTimesWidth(LinearOperator op) {
        if (op instanceof CurvatureOperator c) {
            long width = c.model().inputSize();
            for (var d : c.model().layers()) {
                width = Math.max(width, d.out());
            }
            return c.batches().get(0).samples() * width;
        }
        return 1;
    }

    /** Bytes of live tangent arrays per column in one forward-over-reverse pass (measured ~10 MB/column on 20-64-64-3, batch 256). */
    static double workingBytesPerColumn(LinearOperator op) {
        double perColumn = 8.0 * 20 * op.size();
        if (op instanceof CurvatureOperator c) {
            long rows = c.batches().get(0).samples();
            long widths = c.model().inputSize();
            for (var d : c.model().layers()) {
                widths += d.out();
            }
            perColumn += 8.0 * 30 * rows * widths;
        }
        return perColumn;
    }

    static Plan preflight(long n, int k, double perColumn, HessianMethod method, Options o) throws IOException {
        double result = 8.0 * n * n;
        double work = method == HessianMethod.STRUCTURED ? StructuredHessian.workingBytes(n) : k * perColumn;
        boolean stream = o.out != null || o.checkpoint != null;
        boolean fits = result + work <= o.budget.bytes();
        if (work > o.budget.bytes() || (!fits && !stream)) {
            String streaming = stream ? "" : String.format(", or streaming it to disk with --out FILE.npy (%s of disk)", MemoryBudget.format(result));
            String need = work > o.budget.bytes() && stream
                    ? String.format("about %s of working memory (block of %d columns) even when streaming the %s result to disk", MemoryBudget.format(work), k,
                            MemoryBudget.format(result))
                    : String.format("%s (N^2 x 8 bytes) plus about %s working memory", MemoryBudget.format(result), MemoryBudget.format(work));
            throw new HessianTooLargeException(String.format(
                    "a dense Hessian of N = %d parameters needs %s, more than the %s budget (--max-memory). Alternatives: a smaller --block,"
                            + " the Hessian of one layer's block (--layer), Hessian-vector products (hvp), estimators that never form the"
                            + " matrix (eigs, trace), structured approximations (curvlab kfac, diag, laplace --structure kron)%s",
                    n, need, MemoryBudget.format(o.budget.bytes()), streaming));
        }
        Path target = o.checkpoint != null ? o.checkpoint : o.out != null ? o.out.toAbsolutePath().getParent() : null;
        if (stream && target != null && MemoryBudget.usableDisk(target) < result) {
            throw new HessianTooLargeException(String.format("writing a Hessian of N = %d needs %s of disk but %s has only %s free",
                    n, MemoryBudget.format(result), target, MemoryBudget.format(MemoryBudget.usableDisk(target))));
        }
        HessianCheckpoint cp = o.checkpoint != null ? new HessianCheckpoint(o.checkpoint) : null;
        Path partial = cp != null ? cp.matrixFile() : o.out != null ? dev.curvlab.nn.io.AtomicFiles.temporaryName(o.out) : null;
        if (!fits) {
            LOG.info("hessian: {} does not fit the {} memory budget; streaming blocks to {}", MemoryBudget.format(result),
                    MemoryBudget.format(o.budget.bytes()), partial);
        }
        return new Plan(fits, partial, cp);
    }

    private static Result blocked(LinearOperator op, long n, int k, Plan plan, Options o, HessianMethod method) throws IOException {
        long t0 = System.nanoTime();
        try (RowBandSink sink = RowBandSink.open(n, plan, o, method, k, () -> Fingerprint.of(op))) {
            int kk0 = sink.blockSize();
            for (long j = sink.resumeRow(); j < n; j += kk0) {
                long kk = Math.min(kk0, n - j);
                INDArray e = Nd4j.zeros(DataType.DOUBLE, n, kk);
                e.get(NDArrayIndex.interval(j, j + kk), NDArrayIndex.all()).assign(Nd4j.eye(kk).castTo(DataType.DOUBLE));
                INDArray rows = op.matmat(e).transpose().dup('c');    // columns J of H, stored as rows J
                e.close();
                sink.accept(j, rows);
                rows.close();
            }
            return sink.finish(t0);
        }
    }

}
