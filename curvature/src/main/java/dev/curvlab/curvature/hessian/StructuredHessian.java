package dev.curvlab.curvature.hessian;

import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.GgnOperator;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.operator.LinearOperator;
import dev.curvlab.curvature.operator.ObservedFisherOperator;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.kernels.LargeMatrix;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Dense;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The exact Hessian (or GGN, or observed Fisher) of a sequential dense network from its per-sample
 * Kronecker structure, with about {@code S N^2} flops instead of forward-over-reverse's
 * {@code 12 S N^2}.
 *
 * <h2>Derivation</h2>
 * Per sample, layer k maps its augmented input {@code u_k = [a_k, 1]} ({@code A_k = in_k + 1}
 * entries) to {@code z_k = u_k W~_k} with {@code W~_k = [W_k; b_k]}; {@code a_{k+1} = s_k(z_k)}.
 * In curvlab's layout layer k's parameters are {@code W~_k} row-major: entry {@code (i, o)} of the
 * block is {@code d z_k[o] / d W~_k[i, o] = u_k[i]}. Write {@code g_k = d l / d z_k},
 * {@code M_k = d2 l / d z_k2}, and for {@code k <= j} {@code S_kj = d z_j / d z_k} ({@code S_kk = I}).
 * The gradient is {@code d l / d W~_j[i', p] = u_j[i'] g_j[p]}. Differentiating it by
 * {@code W~_k[i, o]} for {@code k <= j}:
 * <ul>
 * <li>through {@code g_j}, which depends on {@code W~_k} only via {@code z_j}:
 *     {@code u_j[i'] (d g_j[p] / d z_j) (d z_j / d W~_k[i, o]) = u_k[i] u_j[i'] R_kj[o, p]} with
 *     {@code R_kj = S_kj M_j};</li>
 * <li>through {@code u_j} (only for {@code k < j}; the bias input 1 is constant):
 *     {@code u_k[i] T_kj[o, i'] g_j[p]} with {@code T_kj = d u_j / d z_k = [S_k,j-1 diag(s'_{j-1}), 0]}.</li>
 * </ul>
 * Hence, summing over samples s,
 * <pre>
 *   H_kj[(i,o), (i',p)] = sum_s u_k[s,i] ( u_j[s,i'] R_kj[s,o,p] + [k &lt; j] T_kj[s,o,i'] g_j[s,p] )
 * </pre>
 * Each term is one GEMM over the sample index: {@code (u_j (x) u_k)^T R} with the Khatri-Rao rows
 * {@code [S, A_j A_k]} against {@code R: [S, out_k out_j]}, and {@code u_k^T (T (x) g_j)}; both land in
 * the same {@code [(i', i), (o, p)]} product, from which {@link KroneckerBlocks} gathers the rows of
 * {@code H_kj} and of its mirror {@code H_jk = H_kj^T}, so the matrix is exactly symmetric by
 * construction. A diagonal block is symmetric under {@code (i, o) <-> (i', p)} (M is), so only the
 * pairs {@code i <= i'} are formed: half its flops. The per-sample factors come from one backward
 * recursion: {@code g_k = (g_{k+1} W_{k+1}^T) . s_k'},
 * {@code M_k = D_k (W_{k+1} M_{k+1} W_{k+1}^T) D_k + diag((g_{k+1} W_{k+1}^T) . s_k'')} with
 * {@code D_k = diag(s_k')}, starting from the loss's gradient and Hessian in the network output
 * (per sample, in closed form, {@link dev.curvlab.nn.loss.Loss#outputDerivatives}, or by the core
 * engine), and {@code S_kj = S_k,j-1 D_{j-1} W_j}; for adjacent layers
 * {@code R_k,k+1^T = M_{k+1} W_{k+1}^T D_k} reuses the recursion's product. The GGN is the same without
 * the {@code s''} term and without T.
 */
public final class StructuredHessian {
    private StructuredHessian() {
    }

    /** True for the Hessian, GGN and observed Fisher operators of a chain of dense layers ({@code Sequential.isDenseChain()}). */
    public static boolean supports(LinearOperator op) {
        return (op instanceof HessianOperator || op instanceof GgnOperator || op instanceof ObservedFisherOperator)
                && ((CurvatureOperator) op).model().isDenseChain();
    }

    /** Working memory besides the result: a few blocks of the largest layer pair. */
    static double workingBytes(long n) {
        return 8.0 * n * n * 0.6;
    }

    static FullHessian.Result compute(LinearOperator op, FullHessian.Plan plan, FullHessian.Options o) throws IOException {
        CurvatureOperator c = (CurvatureOperator) op;
        long t0 = System.nanoTime();
        long n = c.size();
        try (RowBandSink sink = RowBandSink.open(n, plan, o, HessianMethod.STRUCTURED, 0, () -> Fingerprint.of(op))) {
            long[] offsets = offsets(c.model());
            int layers = c.model().layers().size();
            sink.symmetricByConstruction();
            if (plan.inMemory() && plan.checkpoint() == null) {
                INDArray h = sink.wholeMatrix();            // the output file itself when there is one
                assemble(c, offsets, h);
                sink.acceptAll(h);
            } else {                                        // streamed or checkpointed: one layer's rows at a time
                for (int k = 0; k < layers; k++) {
                    if (offsets[k + 1] <= sink.resumeRow()) {
                        continue;
                    }
                    sink.accept(offsets[k], band(c, n, offsets, k));
                }
            }
            return sink.finish(t0);
        }
    }

    /** Writes the whole matrix into {@code h: [N, N]} (C order): every layer pair k &lt;= j with its mirror, summed over chunks of samples. */
    static void assemble(CurvatureOperator c, long[] offsets, INDArray h) {
        assemble(c, offsets, h, new KroneckerBlocks.Workspace());
    }

    static void assemble(CurvatureOperator c, long[] offsets, INDArray h, KroneckerBlocks.Workspace ws) {
        boolean first = true;
        for (ModelObjective b : c.batches()) {
            for (LayerStates st : states(c, b)) {
                pairs(c, st, offsets, -1, new KroneckerBlocks.Destination(h, 0, 0, !first), ws);
                first = false;
            }
        }
    }

    /** Rows of layer k, {@code [rows_k, N]}: the pairs (k, j) and (j, k) that write them. */
    static INDArray band(CurvatureOperator c, long n, long[] offsets, int k) {
        INDArray rows = Nd4j.zeros(DataType.DOUBLE, offsets[k + 1] - offsets[k], n);
        KroneckerBlocks.Workspace ws = new KroneckerBlocks.Workspace();
        for (ModelObjective b : c.batches()) {
            for (LayerStates st : states(c, b)) {
                pairs(c, st, offsets, k, new KroneckerBlocks.Destination(rows, offsets[k], 0, true), ws);
            }
        }
        return rows;
    }

    /**
     * The whole matrix of a supported operator in memory, {@code [N, N]}, without the driver's
     * preflight, progress or logging (use {@link FullHessian#compute} for those).
     */
    public static INDArray matrix(CurvatureOperator c) {
        if (!supports(c)) {
            throw new IllegalArgumentException("the structured method needs the Hessian, GGN or observed Fisher operator, got "
                    + c.getClass().getSimpleName());
        }
        INDArray h = LargeMatrix.zeros(c.size(), c.size());
        assemble(c, offsets(c.model()), h);
        return h;
    }

    /** Diagonal (per-layer) block k alone, {@code [rows_k, rows_k]}. */
    public static INDArray layerBlock(CurvatureOperator c, int k) {
        long[] off = offsets(c.model());
        long size = off[k + 1] - off[k];
        INDArray out = Nd4j.zeros(DataType.DOUBLE, size, size);
        KroneckerBlocks.Workspace ws = new KroneckerBlocks.Workspace();
        for (ModelObjective b : c.batches()) {
            for (LayerStates st : states(c, b)) {
                KroneckerBlocks.pair(st, k, k, c instanceof GgnOperator, c.normalization(), off[k], off[k],
                        new KroneckerBlocks.Destination(out, off[k], off[k], true), ws);
            }
        }
        return out;
    }

    /** Layer pairs k &lt;= j of one chunk (only those touching layer {@code only}, unless it is -1). */
    private static void pairs(CurvatureOperator c, LayerStates st, long[] offsets, int only, KroneckerBlocks.Destination d,
            KroneckerBlocks.Workspace ws) {
        int layers = offsets.length - 1;
        for (int k = 0; k < layers; k++) {
            for (int j = k; j < layers; j++) {
                if (only < 0 || k == only || j == only) {
                    KroneckerBlocks.pair(st, k, j, c instanceof GgnOperator, c.normalization(), offsets[k], offsets[j], d, ws);
                }
            }
        }
    }

    /**
     * Per-sample states of the batch's samples in chunks small enough that the per-sample tensors
     * (about {@link #perSampleDoubles} each) stay within {@link #CHUNK_DOUBLES}.
     */
    private static List<LayerStates> states(CurvatureOperator c, ModelObjective b) {
        double factor = c.batchReduction() == Reduction.NLL ? c.loss().nllPerSum() : 1.0;
        long s = b.samples();
        long chunk = Math.max(1, Math.min(s, CHUNK_DOUBLES / perSampleDoubles(c.model())));
        List<LayerStates> out = new java.util.ArrayList<>();
        for (long start = 0; start < s; start += chunk) {
            long end = Math.min(s, start + chunk);
            Tensor x = chunk == s ? b.x() : b.x().rows(start, end);
            Tensor y = chunk == s ? b.preparedTargets() : b.preparedTargets().rows(start, end);
            out.add(new LayerStates(c.model(), c.loss(), x, y, c.parameters(), factor, c instanceof GgnOperator));
        }
        return out;
    }

    /** Per-sample tensors of one chunk are kept under this many doubles (128 MB). */
    static final long CHUNK_DOUBLES = 16L << 20;

    /** Doubles held per sample: M_k, S_kj, augmented inputs and the largest Khatri-Rao row. */
    static long perSampleDoubles(Sequential model) {
        long total = 0;
        long maxPair = 1;
        List<Dense> ls = model.layers();
        for (int k = 0; k < ls.size(); k++) {
            long ok = ls.get(k).out();
            total += ok * ok + ls.get(k).in() + 1 + 4 * ok;
            for (int j = k; j < ls.size(); j++) {
                total += ok * ls.get(j).out();
                maxPair = Math.max(maxPair, (long) (ls.get(k).in() + 1) * (ls.get(j).in() + 1));
            }
        }
        return total + maxPair;
    }

    /** Start of each layer's parameters, plus N at the end. */
    static long[] offsets(Sequential model) {
        List<Dense> ls = model.layers();
        long[] off = new long[ls.size() + 1];
        for (int k = 0; k < ls.size(); k++) {
            off[k + 1] = off[k] + ls.get(k).parameterCount();
        }
        return off;
    }

}
