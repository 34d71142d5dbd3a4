package dev.curvlab.curvature.kfac;

import dev.curvlab.core.kernels.MatMulKernel;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.curvature.spectrum.SymmetricEigen;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.model.Dense;
import dev.curvlab.nn.model.Sequential;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * KFAC and EKFAC factors of a dense chain for the mean loss L (see {@link KfacFactors}).
 *
 * <h2>Computation</h2>
 * Per chunk of samples: one forward pass keeps the augmented inputs {@code u_l [S, in_l + 1]} and
 * slopes {@code s_l'}; the output curvature of each sample, {@code H_i = R_i R_i^T} (or its MC /
 * empirical replacement, {@link KfacVariant}), enters as columns {@code R_i} ({@code [S, C, out]})
 * that are pulled back layer by layer, {@code B_l = (d f / d z_l)^T R} (one GEMM over all S*C
 * columns per layer). Then {@code A_l += u_l^T u_l} and {@code G_l += B_l^T B_l}, two symmetric
 * rank-k updates (upper triangles only, mirrored once at the end), since
 * {@code J_i^T H_i J_i = B_i B_i^T}. Memory: the factors plus one chunk's columns; nothing is N^2.
 *
 * <p>EKFAC takes the eigenvectors {@code Q_A, Q_G} of the factors and re-fits the diagonal
 * {@code d = diag((Q_A kron Q_G)^T GGN_l (Q_A kron Q_G))} in a second pass from the per-sample terms:
 * sample i contributes {@code (u_i Q_A)^2 kron diag(Q_G^T B_i B_i^T Q_G)}, so
 * {@code d [in+1, out] = ((U Q_A)^2)^T D} with {@code D[i, o] = sum_c ((B_i Q_G)[c, o])^2}, one GEMM.
 */
public final class Kfac {
    private Kfac() {
    }

    /**
     * @param samples MC labels per input (MC only)
     * @param seed seed of the MC labels
     * @param ekfac also re-fit the EKFAC diagonal (a second pass over the data)
     */
    public record Options(KfacVariant variant, int samples, long seed, boolean ekfac) {
        public Options {
            if (samples < 1) {
                throw new IllegalArgumentException("--samples must be >= 1, got " + samples);
            }
        }

        public static Options exact() {
            return new Options(KfacVariant.EXACT, 1, 0, false);
        }
    }

    /**
     * Whether KFAC, the exact diagonals and the Laplace posteriors built on them apply to
     * {@code model}: every layer is dense (a chain of affine maps and elementwise activations).
     * The one place the commands ask; conv layers (KFC, with patches) will extend it.
     */
    public static boolean isDenseChain(Sequential model) {
        return model.isDenseChain();
    }

    /**
     * Whether KFAC, the GGN / MC-Fisher diagonals and the Laplace posteriors apply to {@code model}:
     * every Sequential does (dense chains by the fast path, conv nets by {@link ConvKfac}).
     * The exact Hessian diagonal needs {@link #isDenseChain}.
     */
    public static boolean isSupported(Sequential model) {
        return model.isDenseChain() || !ParametricLayers.of(model).entries().isEmpty();
    }

    /**
     * Upper bound of the native memory of {@link #compute}: the factors {@code A_l [in+1, in+1]},
     * {@code G_l [out, out]} of every layer (with EKFAC also their eigenbases, the re-fitted
     * diagonal and an eigen work copy), plus one chunk's working memory ({@link #chunkBytes}).
     */
    public static double memoryBytes(Sequential model, long samples, boolean ekfac) {
        if (!model.isDenseChain()) {
            return ConvKfac.memoryBytes(model, samples, ekfac);
        }
        double factors = 0;
        for (Dense d : model.layers()) {
            double a = (double) (d.in() + 1) * (d.in() + 1);
            double g = (double) d.out() * d.out();
            factors += ekfac ? 3 * (a + g) + (double) (d.in() + 1) * d.out() : a + g;
        }
        return 8 * factors + chunkBytes(model, samples);
    }

    /**
     * Working memory of one chunk of samples: the per-sample column blocks (kept near
     * {@link SampleChunks#CHUNK_DOUBLES}), their pulled-back copies and the forward intermediates,
     * at most 8 such blocks; less when the whole data set is smaller than a chunk.
     */
    public static double chunkBytes(Sequential model, long samples) {
        if (!model.isDenseChain()) {
            return ConvKfac.chunkBytes(model, samples);
        }
        double widths = model.inputSize() + 1;
        for (Dense d : model.layers()) {
            widths += d.out() + 1;
        }
        double perSample = widths * Math.max(1, model.outputSize()) * 4;
        return 8.0 * 8 * Math.min(SampleChunks.CHUNK_DOUBLES, Math.max(1, samples) * perSample);
    }

    public static KfacFactors compute(Sequential model, Loss loss, Dataset data, INDArray theta, Options o) {
        return compute(model, loss, data, theta, o, ProgressListener.NONE);
    }

    public static KfacFactors compute(Sequential model, Loss loss, Dataset data, INDArray theta, Options o, ProgressListener progress) {
        return compute(model, loss, data, theta, o, 0, progress);
    }

    /**
     * The factors of layers {@code first..L-1} only (index 0 of the result is layer {@code first}):
     * the pullback stops there, so the last layer alone costs one forward pass and its grams.
     */
    public static KfacFactors compute(Sequential model, Loss loss, Dataset data, INDArray theta, Options o, int first, ProgressListener progress) {
        if (!model.isDenseChain()) {
            return ConvKfac.compute(model, loss, data, theta, o, first, progress);
        }
        return compute(model, o, first, progress, new SampleChunks(model, loss, data, theta));
    }

    /**
     * KFAC factors (as {@link #compute}) and the summed loss {@code sum_i l(f(x_i), y_i)} at theta.
     * @param summedLoss the loss with {@link dev.curvlab.nn.loss.Reduction#SUM}, for the evidence
     */
    public record FactorsAndLoss(KfacFactors factors, double summedLoss) {
    }

    /**
     * {@link #compute} of a dense chain that also sums the loss from the outputs its forward passes
     * compute anyway (the kron Laplace needs both; a separate likelihood pass cost a second forward
     * pass over the data).
     */
    public static FactorsAndLoss computeWithLoss(Sequential model, Loss loss, Dataset data, INDArray theta, Options o, int first,
            ProgressListener progress) {
        if (!model.isDenseChain()) {
            throw new IllegalArgumentException("the fused factors-and-loss pass needs a dense chain; use compute for other models");
        }
        SampleChunks chunks = new SampleChunks(model, loss, data, theta);
        KfacFactors factors = compute(model, o, first, progress, chunks);
        return new FactorsAndLoss(factors, chunks.summedLoss());
    }

    private static KfacFactors compute(Sequential model, Options o, int first, ProgressListener progress, SampleChunks chunks) {
        List<Dense> ls = model.layers();
        int layers = ls.size();
        INDArray[] a = new INDArray[layers];
        INDArray[] g = new INDArray[layers];
        for (int l = 0; l < layers; l++) {
            a[l] = Nd4j.zeros(DataType.DOUBLE, ls.get(l).in() + 1, ls.get(l).in() + 1);
            g[l] = Nd4j.zeros(DataType.DOUBLE, ls.get(l).out(), ls.get(l).out());
        }
        long columns = columnsPerSample(o, model.outputSize());
        try (Workspace ws = new Workspace(layers)) {
            chunks.forEach(o.variant(), o.samples(), o.seed(), false, columns, progress, "kfac factors", (pass, cols) -> {
                INDArray b = pass.toPreActivations(cols.columns(), ws);
                for (int l = layers - 1; l >= first; l--) {
                    SymmetricGram.addUpper(pass.inputs[l], a[l]);
                    new ColumnBlock(b, cols.signs()).addUpperGramTo(g[l]);
                    if (l > first) {
                        b = pass.down(l, b, ws);
                    }
                }
            });
        }
        for (int l = first; l < layers; l++) {
            SymmetricGram.mirrorUpper(a[l]);
            SymmetricGram.mirrorUpper(g[l]);
            a[l].divi(chunks.samples());
        }
        if (!o.ekfac()) {
            return new KfacFactors(o.variant(), List.of(a).subList(first, layers), List.of(g).subList(first, layers), null, null);
        }
        if (first != 0) {
            throw new IllegalArgumentException("EKFAC is computed for all layers (first = 0), got first = " + first);
        }
        List<INDArray[]> bases = new ArrayList<>();
        INDArray[] d = new INDArray[layers];
        for (int l = 0; l < layers; l++) {
            bases.add(new INDArray[] {SymmetricEigen.decompose(a[l]).vectors(), SymmetricEigen.decompose(g[l]).vectors()});
            d[l] = Nd4j.zeros(DataType.DOUBLE, ls.get(l).in() + 1, ls.get(l).out());
        }
        Workspace ws = new Workspace(layers);
        chunks.forEach(o.variant(), o.samples(), o.seed(), false, columns, progress, "ekfac diagonal", (pass, cols) -> {
            INDArray b = pass.toPreActivations(cols.columns(), ws);
            for (int l = layers - 1; l >= 0; l--) {
                INDArray uq = MatMulKernel.gemm(pass.inputs[l], bases.get(l)[0], false, false);
                INDArray bq = new ColumnBlock(b, cols.signs()).diagonals(bases.get(l)[1]);
                Nd4j.gemm(uq.muli(uq), bq, d[l], true, false, 1.0, 1.0);
                Buffers.free(uq, bq);
                if (l > 0) {
                    b = pass.down(l, b, ws);
                }
            }
        });
        ws.close();
        return new KfacFactors(o.variant(), List.of(a), List.of(g), List.of(d), bases);
    }

    /** Columns per sample of the output curvature: out (exact), S (MC) or 1 (empirical). */
    static long columnsPerSample(Options o, long outputs) {
        return switch (o.variant()) {
            case EXACT -> outputs;
            case MC -> o.samples();
            case EMPIRICAL -> 1;
        };
    }
}
