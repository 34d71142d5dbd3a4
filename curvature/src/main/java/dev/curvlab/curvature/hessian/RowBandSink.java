package dev.curvlab.curvature.hessian;

import dev.curvlab.core.kernels.LargeMatrix;
import dev.curvlab.core.kernels.RawAccess;
import dev.curvlab.nn.io.AtomicFiles;
import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.nn.io.NpyMatrixWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a dense Hessian goes as it is computed, one band of complete rows at a time, in order: the
 * in-memory matrix (when the preflight allowed it), the {@code .partial} file, the checkpoint's
 * progress record, and the progress listener. {@link #finish} gives the file its final name only
 * when every row is written; {@link #close} without finish removes the partial file (unless a
 * checkpoint keeps it for resuming).
 */
final class RowBandSink implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(RowBandSink.class);

    private final long n;
    private final FullHessian.Plan plan;
    private final FullHessian.Options options;
    private final HessianMethod method;
    private final Supplier<String> fingerprint;
    private final int blockSize;
    private final long resumeRow;
    private final NpyMatrixWriter writer;
    private INDArray matrix;
    private boolean mappedFile;
    private boolean finished;
    private boolean symmetric;

    private RowBandSink(long n, FullHessian.Plan plan, FullHessian.Options options, HessianMethod method, int blockSize,
            Supplier<String> fingerprint, long resumeRow, NpyMatrixWriter writer) {
        this.n = n;
        this.plan = plan;
        this.options = options;
        this.method = method;
        this.blockSize = blockSize;
        this.fingerprint = fingerprint;
        this.resumeRow = resumeRow;
        this.writer = writer;
        this.matrix = null;
    }

    /** Opens the destinations, resuming from a matching checkpoint. */
    static RowBandSink open(long n, FullHessian.Plan plan, FullHessian.Options o, HessianMethod method, int blockSize,
            Supplier<String> digest) throws IOException {
        // computed only where a checkpoint needs it, and once
        String[] memo = new String[1];
        Supplier<String> fingerprint = () -> memo[0] != null ? memo[0] : (memo[0] = digest.get());
        long done = 0;
        int k = blockSize;
        NpyMatrixWriter writer = null;
        if (plan.checkpoint() != null) {
            var saved = plan.checkpoint().resume(n, method.name(), blockSize, fingerprint);   // validated, checksums verified
            if (saved.isPresent()) {
                done = saved.get().done();
                writer = NpyMatrixWriter.openExisting(plan.partial());
                LOG.info("hessian: resuming from {} with {}/{} rows done", o.checkpoint(), done, n);
            }
        }
        if (writer == null && plan.partial() != null) {
            // a temporary output is created exclusively (never through a symlink) and removed on interrupt
            writer = NpyMatrixWriter.create(plan.checkpoint() != null ? plan.partial() : AtomicFiles.createExclusive(plan.partial()), n, n);
        }
        return new RowBandSink(n, plan, o, method, k, fingerprint, done, writer);
    }

    /** The first row still to compute (0 unless resuming). */
    long resumeRow() {
        return resumeRow;
    }

    /** The block size to use (a resumed run keeps the checkpoint's). */
    int blockSize() {
        return blockSize;
    }

    /**
     * The in-memory result matrix, zero, created on first use (only when the preflight allowed it):
     * when the result also goes to a file (without a checkpoint) and is below 2 GB, it is that
     * file mapped into memory, so whatever is written to the matrix is already in the file.
     */
    INDArray wholeMatrix() throws IOException {
        if (matrix == null && plan.inMemory()) {
            if (writer != null && plan.checkpoint() == null) {
                // (the preflight checked that the disk has room for the whole file)
                try {
                    matrix = writer.mapped();
                } catch (IOException | UnsupportedOperationException e) {
                    LOG.debug("hessian: cannot map {} ({}); writing it after the computation", plan.partial(), e.toString());
                }
                mappedFile = matrix != null;
            }
            if (matrix == null) {
                matrix = LargeMatrix.zeros(n, n);
            }
        }
        return matrix;
    }

    /** Rows {@code [start, start + r)} of the matrix, complete: {@code rows: [r, N]}. */
    void accept(long start, INDArray rows) throws IOException {
        long end = start + rows.size(0);
        if (wholeMatrix() != null) {
            matrix.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).assign(rows);
        }
        if (writer != null && !mappedFile) {
            writer.writeRows(start, rows);
        }
        if (plan.checkpoint() != null) {
            writer.flush();
            plan.checkpoint().bandDone(start, end);
        }
        options.progress().progress("hessian", end, n);
    }

    /**
     * Declares the matrix exactly symmetric by construction (every entry below the diagonal is a
     * copy of its mirror), so the asymmetry diagnostic is 0 without a pass over the matrix.
     */
    void symmetricByConstruction() {
        this.symmetric = true;
    }

    /**
     * The whole matrix at once (methods that assemble it in memory, ideally into
     * {@link #wholeMatrix()}); rows are streamed from it unless it is the mapped file itself.
     */
    void acceptAll(INDArray h) throws IOException {
        boolean inFile = mappedFile && h == matrix;
        matrix = plan.inMemory() ? h : null;
        if (writer != null && !inFile) {
            writer.writeRows(0, h);
        }
        if (writer != null && plan.checkpoint() != null) {
            writer.flush();
        }
        options.progress().progress("hessian", n, n);
    }

    /** Closes the file, moves it to its final name, measures asymmetry, symmetrizes if asked. */
    FullHessian.Result finish(long t0) throws IOException {
        if (writer != null) {
            writer.close();
        }
        boolean resumed = resumeRow > 0;
        if (matrix != null && resumed) {
            matrix = NpyFile.read(plan.partial());
        }
        double asym = Double.NaN;
        boolean symmetrized = options.symmetrize() && !symmetric;
        if (matrix != null) {
            asym = symmetric ? 0.0 : RawAccess.asymmetry(matrix, 0, n);
            if (symmetrized) {
                matrix = matrix.add(matrix.transpose()).muli(0.5);
            }
        }
        Path file = null;
        if (options.out() != null) {
            if (matrix != null && (symmetrized || plan.partial() == null)) {
                NpyFile.write(options.out(), matrix);
                if (plan.partial() != null) {
                    AtomicFiles.discard(plan.partial());
                }
            } else {
                move(plan.partial(), options.out());
            }
            file = options.out();
            if (mappedFile && matrix != null && !symmetrized) {
                // the result so far was the file itself: hand out a copy-on-write view, so changing it cannot change the file
                INDArray view = NpyFile.mapCopyOnWrite(file);
                matrix = view != null ? view : matrix.dup();
            }
            if (plan.checkpoint() != null) {
                plan.checkpoint().clear();
            }
        } else if (plan.checkpoint() != null) {
            Path complete = options.checkpoint().resolve("hessian.npy");
            if (matrix != null && symmetrized) {
                NpyFile.write(complete, matrix);
                AtomicFiles.discard(plan.partial());
            } else {
                move(plan.partial(), complete);
            }
            plan.checkpoint().clear();
            file = complete;
        }
        finished = true;
        return new FullHessian.Result(matrix, file, method, blockSize, (System.nanoTime() - t0) / 1e9, asym, resumed);
    }

    @Override
    public void close() throws IOException {
        if (finished) {
            return;
        }
        if (writer != null) {
            writer.close();
        }
        if (plan.checkpoint() == null && plan.partial() != null) {
            AtomicFiles.discard(plan.partial());
        }
    }

    private static void move(Path from, Path to) throws IOException {
        AtomicFiles.commit(from, to);
    }
}
