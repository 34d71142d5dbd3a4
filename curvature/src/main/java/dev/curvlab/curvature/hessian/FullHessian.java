package dev.curvlab.curvature.hessian;

import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.LinearOperator;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.nn.products.LayerProducts;
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
 * <p>Any operator's matrix, or its square block over a range of parameters ({@link Options#parameters},
 * {@link Options#layer}), goes through the same steps: a <em>plan</em> ({@link #preflight}: method,
 * memory, chunking, output), a <em>method</em> that emits bands of complete rows ({@link StructuredHessian}
 * for operators that declare a structured form, else blocks of columns by products) and a
 * <em>sink</em> ({@link RowBandSink}: memory, file, checkpoint, progress). What the method may do is
 * read from {@link LinearOperator#capabilities()}: block j's columns {@code A[:, J]} are stored as rows
 * J only for an operator that declares itself symmetric; a non-symmetric operator's columns are
 * assembled as columns, in memory. The asymmetry {@code max |H - H^T|} of the computed matrix is
 * reported, and {@link Options#symmetrize} replaces it by {@code (H + H^T) / 2}.
 *
 * <p>The memory budget covers what the computation allocates (the result when held in memory, the
 * band being written, the method's working arrays); the JVM with ND4J loaded adds its own baseline
 * (see {@link MemoryBudget}).
 */
public final class FullHessian {
    private static final Logger LOG = LoggerFactory.getLogger(FullHessian.class);
    /**
     * Columns per block for image models on the layer engine, whose cost is per direction: 64 ran the
     * digits CNN's Hessian in 4.3-4.5 s of CPU against 6.4-8.5 s for 16 and 5.3-5.8 s for 256
     * (2-core machine under load, provisional).
     */
    static final int IMAGE_LAYER_BLOCK = 64;

    private FullHessian() {
    }

    /**
     * Settings, an immutable record (the project's options convention): {@link #defaults()} and
     * {@code with*} copies. {@code blockSize} 0 chooses the block from the budget; {@code out} null
     * keeps the matrix in memory; {@code checkpoint} null keeps no resumable progress; the range is
     * all parameters unless {@link #withParameters} or {@link #withLayer} selects a block.
     */
    public record Options(HessianMethod method, int blockSize, MemoryBudget budget, Path out, Path checkpoint, ProgressListener progress,
            boolean symmetrize, long rangeStart, long rangeEnd, int layer) {
        public Options {
            if (method == null || budget == null || progress == null) {
                throw new IllegalArgumentException("method, budget and progress must not be null");
            }
            if (blockSize < 0) {
                throw new IllegalArgumentException("block size must be >= 0, got " + blockSize);
            }
        }

        /** AUTO method, block from the budget, the default budget, in memory, no checkpoint, no progress, all parameters. */
        public static Options defaults() {
            return new Options(HessianMethod.AUTO, 0, MemoryBudget.defaultBudget(), null, null, ProgressListener.NONE, false, -1, -1, -1);
        }

        public Options withMethod(HessianMethod m) {
            return new Options(m, blockSize, budget, out, checkpoint, progress, symmetrize, rangeStart, rangeEnd, layer);
        }

        /** Columns per pass; 0 chooses from the memory budget. */
        public Options withBlockSize(int k) {
            return new Options(method, k, budget, out, checkpoint, progress, symmetrize, rangeStart, rangeEnd, layer);
        }

        public Options withBudget(MemoryBudget b) {
            return new Options(method, blockSize, b, out, checkpoint, progress, symmetrize, rangeStart, rangeEnd, layer);
        }

        /** Writes the matrix to this {@code .npy} file (streamed when it does not fit in memory). */
        public Options withOut(Path file) {
            return new Options(method, blockSize, budget, file, checkpoint, progress, symmetrize, rangeStart, rangeEnd, layer);
        }

        /** Keeps resumable progress in this directory. */
        public Options withCheckpoint(Path dir) {
            return new Options(method, blockSize, budget, out, dir, progress, symmetrize, rangeStart, rangeEnd, layer);
        }

        public Options withProgress(ProgressListener p) {
            return new Options(method, blockSize, budget, out, checkpoint, p, symmetrize, rangeStart, rangeEnd, layer);
        }

        public Options withSymmetrize(boolean s) {
            return new Options(method, blockSize, budget, out, checkpoint, progress, s, rangeStart, rangeEnd, layer);
        }

        /** Only the square block over parameters {@code [start, end)} (rows and columns), {@code [end - start, end - start]}. */
        public Options withParameters(long start, long end) {
            if (start < 0 || end <= start) {
                throw new IllegalArgumentException("parameter range [" + start + ", " + end + ") is empty or negative");
            }
            return new Options(method, blockSize, budget, out, checkpoint, progress, symmetrize, start, end, -1);
        }

        /** Only layer L's diagonal block (its W and b) of a curvature operator of a Sequential model. */
        public Options withLayer(int l) {
            if (l < 0) {
                throw new IllegalArgumentException("layer must be >= 0, got " + l);
            }
            return new Options(method, blockSize, budget, out, checkpoint, progress, symmetrize, -1, -1, l);
        }

        /** The parameter range {@code [start, end)} these options select for {@code op}. */
        long[] range(LinearOperator op) {
            if (layer >= 0) {
                if (!(op instanceof CurvatureOperator c)) {
                    throw new IllegalArgumentException("a layer's block needs the operator of a model; use parameters(start, end) for "
                            + op.getClass().getSimpleName());
                }
                return c.model().parameterRange(layer);
            }
            if (rangeStart < 0) {
                return new long[] {0, op.size()};
            }
            if (rangeEnd > op.size()) {
                throw new IllegalArgumentException("parameter range [" + rangeStart + ", " + rangeEnd + ") outside [0, " + op.size() + ")");
            }
            return new long[] {rangeStart, rangeEnd};
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

    /** Computes the dense matrix of {@code op} (or its block over the selected parameters). */
    public static Result compute(LinearOperator op, Options o) throws IOException {
        long[] range = o.range(op);
        long n = range[1] - range[0];
        HessianMethod method = o.method();
        boolean structuredRange = StructuredHessian.supports(op) && StructuredHessian.layerSpan(op, range) != null;
        if (method == HessianMethod.AUTO) {
            method = structuredRange ? HessianMethod.STRUCTURED : HessianMethod.BLOCKED;
        } else if (method == HessianMethod.STRUCTURED && !structuredRange) {
            StructuredHessian.require(op);
            throw new IllegalArgumentException("the structured method computes whole layers' blocks; parameters [" + range[0] + ", " + range[1]
                    + ") do not start and end at layer boundaries (use the blocked method)");
        }
        double perColumn = workingBytesPerColumn(op);
        int k = method == HessianMethod.ROWLOOP ? 1 : o.blockSize() > 0 ? (int) Math.min(o.blockSize(), n) : autoBlock(n, perColumn, o.budget(), rowsTimesWidth(op));
        if (o.blockSize() == 0 && onImageLayerEngine(op)) {
            k = Math.min(k, IMAGE_LAYER_BLOCK);
        }
        Plan plan = preflight(op, range, k, perColumn, method, o);
        long start = System.nanoTime();
        Result r = method == HessianMethod.STRUCTURED ? StructuredHessian.compute(op, plan, o) : blocked(op, range, k, plan, o, method);
        LOG.info("hessian: N = {} by {} in {} s{}", n, method.name().toLowerCase(), String.format("%.3f", (System.nanoTime() - start) / 1e9),
                r.matrix() != null ? String.format(", max |H - H^T| = %.2e", r.asymmetry()) : "");
        return r;
    }

    /**
     * What the preflight decided: the result in memory or streamed to {@code partial}, the checkpoint,
     * the parameter range {@code [start, end)}, samples per chunk for the structured method, and the
     * method's working memory besides the result.
     */
    record Plan(boolean inMemory, Path partial, HessianCheckpoint checkpoint, long rangeStart, long rangeEnd, long chunkSamples,
            double workingBytes) {
        long size() {
            return rangeEnd - rangeStart;
        }

        /**
         * Frees native garbage whenever the process grows past this plan's working memory (see
         * {@link NativeGarbage}); made once the result is allocated.
         */
        NativeGarbage garbageGuard() {
            return NativeGarbage.beyond(workingBytes);
        }
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

    /**
     * Rows of one batch times the widest layer: the size of one tangent column of a hidden activation
     * on the generic engine; 1 for an image model on the layer engine, whose direction buffers are
     * bounded by chunking.
     */
    static long rowsTimesWidth(LinearOperator op) {
        if (op instanceof CurvatureOperator c && !onImageLayerEngine(op)) {
            long width = c.model().inputSize();
            for (long size : c.model().activationSizes()) {
                width = Math.max(width, size);
            }
            return c.batches().get(0).samples() * width;
        }
        return 1;
    }

    /**
     * Bytes of live tangent arrays per column in one forward-over-reverse pass (measured ~10 MB/column
     * on 20-64-64-3, batch 256); for an image model on the layer engine the per-column arrays
     * only, the engine's working memory being {@link #engineBytes}.
     */
    static double workingBytesPerColumn(LinearOperator op) {
        if (onImageLayerEngine(op)) {
            return 8.0 * 8 * op.size();     // the unit columns, their transposed copy, the products, accumulators and result rows
        }
        double perColumn = 8.0 * 20 * op.size();
        if (op instanceof CurvatureOperator c) {
            long rows = c.batches().get(0).samples();
            long widths = c.model().inputSize();
            for (long size : c.model().activationSizes()) {
                widths += size;
            }
            perColumn += 8.0 * 30 * rows * widths;
        }
        return perColumn;
    }

    /** True for the operator of an image model whose products run on the layer engine (its module-chain path). */
    static boolean onImageLayerEngine(LinearOperator op) {
        return op instanceof CurvatureOperator c && c.usesLayerEngine() && !c.model().isDenseChain();
    }

    /** The layer engine's own working memory for blocks of k columns ({@link LayerProducts#workingBytes}); 0 on the generic engine. */
    static double engineBytes(LinearOperator op, int k) {
        if (onImageLayerEngine(op) && op instanceof CurvatureOperator c) {
            return LayerProducts.workingBytes(c.model(), c.batches().get(0).samples(), k);
        }
        return 0;
    }

    /** The working memory a method needs besides the result, and the chunk size it implies (structured only). */
    private record Working(double bytes, long chunkSamples) {
    }

    /** Working memory with the result in memory ({@code streamed} false) or streamed band by band; null when nothing fits. */
    private static Working working(LinearOperator op, long[] range, int k, double perColumn, HessianMethod method, double available,
            boolean streamed) {
        if (method == HessianMethod.STRUCTURED) {
            long bandRows = streamed ? StructuredHessian.largestLayerRows(op, range) : 0;
            StructuredHessian.Sizing sizing = StructuredHessian.plan(op, available, bandRows, range);
            return sizing == null ? null : new Working(sizing.workingBytes(), sizing.chunkSamples());
        }
        double work = k * perColumn + engineBytes(op, k);
        return work <= available ? new Working(work, 0) : null;
    }

    static Plan preflight(LinearOperator op, long[] range, int k, double perColumn, HessianMethod method, Options o) throws IOException {
        long n = range[1] - range[0];
        double result = 8.0 * n * n;
        double budget = o.budget().bytes() - MemoryBudget.RUNTIME_RESERVE;
        boolean stream = o.out() != null || o.checkpoint() != null;
        boolean symmetric = op.capabilities().symmetric();
        Working inMemory = working(op, range, k, perColumn, method, budget - result, false);
        Working streamed = inMemory != null || !stream || !symmetric ? null : working(op, range, k, perColumn, method, budget, true);
        if (inMemory == null && streamed == null) {
            Working alone = working(op, range, k, perColumn, method, Double.MAX_VALUE, stream && symmetric);
            String streaming = stream ? "" : String.format(", or streaming it to disk with --out FILE.npy (%s of disk)", MemoryBudget.format(result));
            String need = stream && symmetric
                    ? String.format("about %s of working memory%s even when streaming the %s result to disk", MemoryBudget.format(alone.bytes()),
                            method == HessianMethod.STRUCTURED ? " (one chunk of samples)" : String.format(" (block of %d columns)", k),
                            MemoryBudget.format(result))
                    : String.format("%s (N^2 x 8 bytes) plus about %s working memory%s", MemoryBudget.format(result), MemoryBudget.format(alone.bytes()),
                            symmetric ? "" : " (a non-symmetric operator's matrix is assembled in memory)");
            throw new HessianTooLargeException(String.format(
                    "a dense Hessian of N = %d parameters needs %s and %s for the running JVM, more than the %s budget (--max-memory)."
                            + " Alternatives: a smaller --block,"
                            + " the Hessian of one layer's block (--layer), Hessian-vector products (hvp), estimators that never form the"
                            + " matrix (eigs, trace), structured approximations (curvlab kfac, diag, laplace --structure kron)%s",
                    n, need, MemoryBudget.format(MemoryBudget.RUNTIME_RESERVE), MemoryBudget.format(o.budget().bytes()), streaming));
        }
        if (!symmetric && o.checkpoint() != null) {
            throw new IllegalArgumentException("a non-symmetric operator's matrix is assembled by columns in memory and cannot be checkpointed");
        }
        boolean fits = inMemory != null;
        Path target = o.checkpoint() != null ? o.checkpoint() : o.out() != null ? o.out().toAbsolutePath().getParent() : null;
        if (stream && target != null && MemoryBudget.usableDisk(target) < result) {
            throw new HessianTooLargeException(String.format("writing a Hessian of N = %d needs %s of disk but %s has only %s free",
                    n, MemoryBudget.format(result), target, MemoryBudget.format(MemoryBudget.usableDisk(target))));
        }
        HessianCheckpoint cp = o.checkpoint() != null ? new HessianCheckpoint(o.checkpoint()) : null;
        Path partial = cp != null ? cp.matrixFile() : o.out() != null ? dev.curvlab.nn.io.AtomicFiles.temporaryName(o.out()) : null;
        Working chosen = fits ? inMemory : streamed;
        LOG.debug("hessian: plan {} N = {}, result {}, working {}{}", method.name().toLowerCase(), n, MemoryBudget.format(result),
                MemoryBudget.format(chosen.bytes()), chosen.chunkSamples() > 0 ? ", chunks of " + chosen.chunkSamples() + " samples" : "");
        if (!fits) {
            LOG.info("hessian: {} does not fit the {} memory budget; streaming blocks to {}", MemoryBudget.format(result),
                    MemoryBudget.format(o.budget().bytes()), partial);
        }
        return new Plan(fits, partial, cp, range[0], range[1], chosen.chunkSamples(), chosen.bytes());
    }

    /**
     * Blocks of k columns by products with identity columns; a symmetric operator's columns J are
     * its rows J and stream to the sink band by band, a non-symmetric one's are placed as columns of
     * the in-memory matrix.
     */
    private static Result blocked(LinearOperator op, long[] range, int k, Plan plan, Options o, HessianMethod method) throws IOException {
        long t0 = System.nanoTime();
        long n = plan.size();
        boolean symmetric = op.capabilities().symmetric();
        try (RowBandSink sink = RowBandSink.open(n, plan, o, method, k, () -> Fingerprint.of(op))) {
            int blockSize = sink.blockSize();
            INDArray byColumns = sink.wholeMatrix();                                    // resident before the guard starts counting
            NativeGarbage guard = plan.garbageGuard();
            for (long j = sink.resumeRow(); j < n; j += blockSize) {
                long count = Math.min(blockSize, n - j);
                INDArray columns = columns(op, range[0], n, j, count);                        // A[range, J]: [n, count]
                if (symmetric) {
                    INDArray rows = columns.transpose().dup('c');                            // = A[J, range], stored as rows J
                    sink.accept(j, rows);
                    rows.close();
                } else {                                                                    // byColumns is the in-memory matrix
                    byColumns.get(NDArrayIndex.all(), NDArrayIndex.interval(j, j + count)).assign(columns);
                    o.progress().progress("hessian", j + count, n);
                }
                columns.close();
                guard.check();
            }
            if (!symmetric) {
                sink.acceptAll(byColumns);
            }
            return sink.finish(t0);
        }
    }

    /** Columns {@code [start + j, start + j + count)} of the operator, rows {@code [start, start + n)}: {@code [n, count]}. */
    private static INDArray columns(LinearOperator op, long start, long n, long j, long count) {
        INDArray e = Nd4j.zeros(DataType.DOUBLE, op.size(), count);
        e.get(NDArrayIndex.interval(start + j, start + j + count), NDArrayIndex.all()).assign(Nd4j.eye(count).castTo(DataType.DOUBLE));
        INDArray product = op.matmat(e);
        e.close();
        if (n == op.size()) {
            return product;
        }
        INDArray rows = product.get(NDArrayIndex.interval(start, start + n), NDArrayIndex.all()).dup('c');
        product.close();
        return rows;
    }
}
