package dev.curvlab.curvature.kfac;

import dev.curvlab.core.ArrayScope;
import dev.curvlab.core.Tensor;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.model.Dense;
import dev.curvlab.nn.model.Sequential;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The data loop of the factor computations: the data set in chunks of samples small enough that the
 * per-sample column blocks stay near {@link #CHUNK_DOUBLES}; for each chunk one forward pass and the
 * output-space columns of the chosen variant for the <b>mean</b> loss (scale {@code 1/Z}). The labels
 * of the MC variant are drawn with a seed derived from the chunk's first row, so a second pass over
 * the same data draws the same labels.
 */
final class SampleChunks {
    /** Per-sample column blocks of one chunk are kept near this many doubles (8 MB: small enough that freed buffers are reused chunk after chunk). */
    static final long CHUNK_DOUBLES = 1L << 20;

    /** What a pass over the data does with each chunk. */
    interface Visitor {
        void visit(ChainPass pass, ColumnBlock outputColumns);
    }

    private final Sequential model;
    private final Loss loss;
    private final Dataset data;
    private final INDArray theta;
    private final INDArray targets;
    private final double scale;
    private double summedLoss;

    SampleChunks(Sequential model, Loss loss, Dataset data, INDArray theta) {
        model.validate(theta.shape(), data.x().shape());
        this.model = model;
        this.loss = loss;
        this.data = data;
        this.theta = theta;
        this.targets = loss.prepare(data.y(), model.outputSize()).array();
        this.scale = 1.0 / loss.normalizer(data.n(), model.outputSize());
    }

    long samples() {
        return data.n();
    }

    /**
     * The loss with {@link dev.curvlab.nn.loss.Reduction#SUM} at the parameters over the chunks of
     * the last {@link #forEach} (the evidence's likelihood term), from the outputs each chunk's forward
     * pass computes anyway: {@code sum_chunks loss.summed(f_chunk, y_chunk)}.
     */
    double summedLoss() {
        return summedLoss;
    }

    /**
     * Runs {@code visitor} on every chunk. {@code columnsPerSample} (columns of the largest block, times
     * the blocks held at once) sizes the chunks.
     */
    void forEach(KfacVariant variant, int mcSamples, long seed, boolean secondDerivatives, long columnsPerSample,
            ProgressListener progress, String task, Visitor visitor) {
        long n = data.n();
        long width = 1;
        for (Dense d : model.layers()) {
            width = Math.max(width, Math.max(d.out(), d.in() + 1));
        }
        long chunk = Math.max(1, Math.min(n, CHUNK_DOUBLES / (Math.max(1, columnsPerSample) * width)));
        summedLoss = 0;
        for (long start = 0; start < n; start += chunk) {
            long end = Math.min(n, start + chunk);
            INDArray x = rows(data.x(), start, end, chunk == n);
            INDArray y = rows(targets, start, end, chunk == n);
            ChainPass pass = ChainPass.forward(model, theta, x, secondDerivatives);
            summedLoss += chunkLoss(pass.output, y);
            ColumnBlock cols = OutputColumns.of(variant, loss, pass.output, y, scale, mcSamples, seed + 0x9E3779B97F4A7C15L * (start + 1));
            visitor.visit(pass, cols);
            pass.free();
            Buffers.free(cols.columns(), cols.signs());
            if (chunk != n) {
                Buffers.free(x, y);
            }
            progress.progress(task, end, n);
        }
    }

    private double chunkLoss(INDArray f, INDArray y) {
        return ArrayScope.run(() -> loss.summed(Tensor.of(f), Tensor.of(y))).array().getDouble(0);
    }

    private static INDArray rows(INDArray a, long start, long end, boolean all) {
        if (all) {
            return a;
        }
        return a.rank() == 1 ? a.get(NDArrayIndex.interval(start, end)).dup('c')
                : a.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).dup('c');
    }
}
