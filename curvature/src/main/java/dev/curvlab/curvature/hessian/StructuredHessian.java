package dev.curvlab.curvature.hessian;

import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.LinearOperator;
import dev.curvlab.curvature.operator.OperatorCapabilities;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.kernels.LargeMatrix;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.model.Dense;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;
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
 * the {@code s''} term and without T. Everything is computed for the summed loss and multiplied by
 * the operator's declared {@link OperatorCapabilities#lossScale()} (1/Z for the mean loss, the loss's
 * {@code nllPerSum} for the observed Fisher), so the operator's kind and scale are all this class
 * reads from it.
 *
 * <h2>Memory</h2>
 * The per-sample factors of a chunk of samples are built, used for every pair and freed before the
 * next chunk's are built, so the working memory is one chunk's states ({@link #perSampleDoubles}
 * doubles per sample), the scratch buffers of {@link KroneckerWorkspace}, and, when rows are
 * streamed, one layer's band of rows; {@link #plan} chooses the chunk within the budget.
 */
public final class StructuredHessian {
    /** Per-sample tensors of one chunk are kept under this many doubles (128 MB) unless the budget asks for fewer. */
    static final long CHUNK_DOUBLES = 16L << 20;
    /**
     * Peak over {@link #peakPerSampleDoubles}: a chunk's live states and their transients. The
     * garbage they leave is freed by {@code NativeGarbage} once the process passes the plan, so with
     * this factor issue 10's cases peak within budget + JVM baseline ({@code bench/memory-check.sh}).
     */
    static final double TRANSIENT_FACTOR = 2.0;

    private StructuredHessian() {
    }

    /**
     * True when the operator declares a structured form (the Hessian, GGN and observed Fisher) and its
     * model is a chain of dense layers ({@code Sequential.isDenseChain()}).
     */
    public static boolean supports(LinearOperator op) {
        return op instanceof CurvatureOperator c && op.capabilities().structured() && c.model().isDenseChain();
    }

    /** The operator as a curvature operator with a structured form, or a clear refusal. */
    static CurvatureOperator require(LinearOperator op) {
        if (!supports(op)) {
            OperatorCapabilities caps = op.capabilities();
            throw new IllegalArgumentException("the structured method needs the Hessian, GGN or observed Fisher of a Sequential dense network;"
                    + " got " + op.getClass().getSimpleName() + " (" + caps.kind().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                    + "): use the blocked method");
        }
        return (CurvatureOperator) op;
    }

    /** How the structured method will run: samples per chunk and the working memory that implies. */
    record Sizing(long chunkSamples, double workingBytes) {
    }

    /**
     * The chunk size and working memory for {@code op} when {@code available} bytes remain besides
     * the result (a band of {@code bandRows} rows is held when streaming; 0 when the matrix is in
     * memory): the largest chunk up to {@link #CHUNK_DOUBLES} and the largest batch that fits, or
     * null when not even one sample fits.
     */
    static Sizing plan(LinearOperator op, double available, long bandRows, long[] range) {
        CurvatureOperator c = require(op);
        long perSample = perSampleDoubles(c.model());
        long peakPerSample = peakPerSampleDoubles(c.model());
        long maxBatch = 1;
        for (ModelObjective b : c.batches()) {
            maxBatch = Math.max(maxBatch, b.samples());
        }
        double band = 8.0 * bandRows * (range[1] - range[0]);
        long chunk = Math.max(1, Math.min(maxBatch, CHUNK_DOUBLES / perSample));
        while (chunk >= 1) {
            double work = workingBytes(peakPerSample, chunk) + band;
            if (work <= available) {
                return new Sizing(chunk, work);
            }
            if (chunk == 1) {
                return null;
            }
            chunk = Math.max(1, chunk / 2);
        }
        return null;
    }

    /**
     * Working memory of one chunk ({@code perSample} from {@link #peakPerSampleDoubles}): its states
     * with their transients, and the scratch buffers (each at most 1.5 x their cap).
     */
    static double workingBytes(long perSample, long chunk) {
        double states = 8.0 * chunk * perSample * TRANSIENT_FACTOR;
        double buffers = 3 * 1.5 * 8.0 * Math.min(KroneckerWorkspace.BUFFER_DOUBLES, chunk * perSample);
        return states + buffers;
    }

    /** Rows of the largest layer in the range: the band held while streaming. */
    static long largestLayerRows(LinearOperator op, long[] range) {
        long[] offsets = require(op).model().layerOffsets();
        int[] span = layerSpan(op, range);
        long rows = 0;
        for (int k = span[0]; k < span[1]; k++) {
            rows = Math.max(rows, offsets[k + 1] - offsets[k]);
        }
        return rows;
    }

    /**
     * The layers {@code [first, end)} whose parameters make up exactly {@code range}, or null when
     * the range does not start and end at layer boundaries (the structured method writes whole
     * layer pairs).
     */
    static int[] layerSpan(LinearOperator op, long[] range) {
        long[] offsets = require(op).model().layerOffsets();
        int first = java.util.Arrays.binarySearch(offsets, range[0]);
        int end = java.util.Arrays.binarySearch(offsets, range[1]);
        return first >= 0 && end > first ? new int[] {first, end} : null;
    }

    static FullHessian.Result compute(LinearOperator op, FullHessian.Plan plan, FullHessian.Options o) throws IOException {
        CurvatureOperator c = require(op);
        long t0 = System.nanoTime();
        long n = plan.size();
        long chunk = plan.chunkSamples();
        int[] span = layerSpan(op, new long[] {plan.rangeStart(), plan.rangeEnd()});
        String range = n == c.size() ? "" : " parameters [" + plan.rangeStart() + ", " + plan.rangeEnd() + ")";
        try (RowBandSink sink = RowBandSink.open(n, plan, o, HessianMethod.STRUCTURED, 0, () -> Fingerprint.of(op) + range)) {
            long[] offsets = c.model().layerOffsets();
            long base = offsets[span[0]];
            sink.symmetricByConstruction();
            INDArray h = sink.wholeMatrix();               // the output file itself when there is one; null when streamed
            NativeGarbage guard = plan.garbageGuard();      // counts from here: an in-memory result is resident already
            if (h != null && plan.checkpoint() == null) {
                assemble(c, span, h, new KroneckerWorkspace(), chunk, guard);
                sink.acceptAll(h);
            } else {                                        // streamed or checkpointed: one layer's rows at a time
                for (int k = span[0]; k < span[1]; k++) {
                    if (offsets[k + 1] - base <= sink.resumeRow()) {
                        continue;
                    }
                    INDArray rows = band(c, span, k, chunk, guard);
                    sink.accept(offsets[k] - base, rows);
                    rows.close();
                }
            }
            return sink.finish(t0);
        }
    }

    /**
     * Writes the block of layers {@code span = [first, end)} into {@code h} (C order, square over
     * their parameters): every layer pair k &lt;= j in the span with its mirror, summed over chunks of samples.
     */
    static void assemble(CurvatureOperator c, int[] span, INDArray h, KroneckerWorkspace ws, long chunk, NativeGarbage guard) {
        long base = c.model().layerOffsets()[span[0]];
        boolean[] first = {true};
        forEachChunk(c, chunk, guard, st -> {
            pairs(c, st, span, -1, new BlockDestination(h, base, base, !first[0]), ws);
            first[0] = false;
        });
    }

    /** Rows of layer k over the span's columns, {@code [rows_k, columns]}: the pairs (k, j) and (j, k) that write them. */
    static INDArray band(CurvatureOperator c, int[] span, int k, long chunk, NativeGarbage guard) {
        long[] offsets = c.model().layerOffsets();
        long base = offsets[span[0]];
        INDArray rows = Nd4j.zeros(DataType.DOUBLE, offsets[k + 1] - offsets[k], offsets[span[1]] - base);
        KroneckerWorkspace ws = new KroneckerWorkspace();
        forEachChunk(c, chunk, guard, st -> pairs(c, st, span, k, new BlockDestination(rows, offsets[k], base, true), ws));
        return rows;
    }

    /**
     * The rows of layer k's parameters, {@code [rows_k, N]}: the band the streamed computation writes
     * for that layer, bit for bit (so bands computed separately, e.g. as distributed tasks, assemble
     * to the streamed matrix). Rows of layer k start at the sum of the earlier layers' parameter counts.
     */
    public static INDArray layerRows(CurvatureOperator c, int k) {
        require(c);
        return band(c, new int[] {0, c.model().layers().size()}, k, defaultChunk(c), NativeGarbage.NONE);
    }

    /**
     * The whole matrix of a supported operator in memory, {@code [N, N]}, without the driver's
     * preflight, progress or logging: the strategy alone, for this package's tests. Everything else
     * goes through {@link FullHessian#compute}, the one way in for dense matrices.
     */
    static INDArray matrix(CurvatureOperator c) {
        require(c);
        INDArray h = LargeMatrix.zeros(c.size(), c.size());
        assemble(c, new int[] {0, c.model().layers().size()}, h, new KroneckerWorkspace(), defaultChunk(c), NativeGarbage.NONE);
        return h;
    }

    /**
     * Diagonal (per-layer) block k alone, {@code [rows_k, rows_k]}, of a supported operator (others
     * are refused), the strategy alone, for this package's tests: {@link FullHessian#compute} with
     * {@link FullHessian.Options#withLayer} is the way in for any operator's block.
     */
    static INDArray layerBlock(CurvatureOperator c, int k) {
        require(c);
        long[] off = c.model().layerOffsets();
        if (k < 0 || k + 1 >= off.length) {
            throw new IndexOutOfBoundsException("layer " + k + " of model " + c.model().describe() + ", which has layers 0.." + (off.length - 2));
        }
        long size = off[k + 1] - off[k];
        INDArray out = Nd4j.zeros(DataType.DOUBLE, size, size);
        assemble(c, new int[] {k, k + 1}, out, new KroneckerWorkspace(), defaultChunk(c), NativeGarbage.NONE);
        return out;
    }

    /** Layer pairs k &lt;= j of the span, of one chunk (only those touching layer {@code only}, unless it is -1). */
    private static void pairs(CurvatureOperator c, LayerStates st, int[] span, int only, BlockDestination d,
            KroneckerWorkspace ws) {
        KroneckerBlocks.Settings settings = pairSettings(c, c.model().layerOffsets());
        for (int k = span[0]; k < span[1]; k++) {
            for (int j = k; j < span[1]; j++) {
                if (only < 0 || k == only || j == only) {
                    KroneckerBlocks.pair(st, k, j, settings, d, ws);
                }
            }
        }
    }

    private static KroneckerBlocks.Settings pairSettings(CurvatureOperator c, long[] offsets) {
        OperatorCapabilities caps = c.capabilities();
        return new KroneckerBlocks.Settings(caps.kind().gaussNewton(), caps.lossScale(), offsets);
    }

    /**
     * Runs {@code body} on the per-sample states of each chunk of at most {@code chunk} samples of
     * every batch, one chunk alive at a time: its states are freed before the next are built.
     */
    static void forEachChunk(CurvatureOperator c, long chunk, NativeGarbage guard, Consumer<LayerStates> body) {
        boolean ggn = c.capabilities().kind().gaussNewton();
        for (ModelObjective b : c.batches()) {
            long s = b.samples();
            for (long start = 0; start < s; start += chunk) {
                long end = Math.min(s, start + chunk);
                boolean whole = start == 0 && end == s;
                Tensor x = whole ? b.x() : rows(b.x(), start, end);
                Tensor y = whole ? b.preparedTargets() : rows(b.preparedTargets(), start, end);
                try (LayerStates st = new LayerStates(c.model(), c.loss(), x, y, c.parameters(), ggn)) {
                    body.accept(st);
                } finally {
                    if (!whole) {
                        x.array().close();
                        y.array().close();
                    }
                }
                guard.check();
            }
        }
    }

    /** Rows {@code [start, end)} of a batch array as a C-order copy (the kernels read whole C-order buffers). */
    private static Tensor rows(Tensor t, long start, long end) {
        INDArray a = t.array();
        return Tensor.of(a.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(start, end), org.nd4j.linalg.indexing.NDArrayIndex.all())
                .dup('c'));
    }

    /** The chunk size without a budget: per-sample tensors within {@link #CHUNK_DOUBLES}. */
    static long defaultChunk(CurvatureOperator c) {
        return Math.max(1, CHUNK_DOUBLES / perSampleDoubles(c.model()));
    }

    /**
     * A conservative count of the doubles per sample at a chunk's peak, used for the budget: as
     * {@link #perSampleDoubles}, with every pair charged for a first-order factor of
     * {@code out_k in_j out_j} doubles (measured: the recursion's and the products' ND4J temporaries
     * take about that much).
     */
    static long peakPerSampleDoubles(Sequential model) {
        long total = 0;
        long maxPair = 1;
        List<Dense> ls = model.layers();
        for (int k = 0; k < ls.size(); k++) {
            long ok = ls.get(k).out();
            long ak = ls.get(k).in() + 1;
            total += ok * ok + ak + 4 * ok + ok * ls.get(k).in();
            for (int j = k; j < ls.size(); j++) {
                long oj = ls.get(j).out();
                long aj = ls.get(j).in() + 1;
                total += ok * oj;
                long pair = ak * aj + 2 * ok * oj + ok * aj + Math.min(ok * (aj - 1) * oj, KroneckerWorkspace.BUFFER_DOUBLES);
                maxPair = Math.max(maxPair, pair);
            }
        }
        return total + maxPair;
    }

    /**
     * Doubles held per sample by one chunk's states: M_k, S_kj (cached), the augmented inputs and
     * activation derivatives, the products of the backward recursion, and the largest per-pair
     * transients (R_kj, an input Jacobian and the first-order factor, with their Java copies; the
     * Khatri-Rao factor and the products live in the workspace, counted apart).
     */
    static long perSampleDoubles(Sequential model) {
        long total = 0;
        long maxPair = 1;
        List<Dense> ls = model.layers();
        for (int k = 0; k < ls.size(); k++) {
            long ok = ls.get(k).out();
            long ak = ls.get(k).in() + 1;
            total += ok * ok + ak + 4 * ok + ok * ls.get(k).in();
            for (int j = k; j < ls.size(); j++) {
                long oj = ls.get(j).out();
                long aj = ls.get(j).in() + 1;
                total += ok * oj;
                long pair = ak + aj + 2 * ok * oj;                 // Java copies of u_k, u_j; R_kj and the adjacent first-order factor
                if (j >= k + 2) {                                  // input Jacobian, its Java copy, and the first-order factor when formed whole
                    long whole = ak * ok * (aj - 1) * oj <= KroneckerWorkspace.BUFFER_DOUBLES ? ok * (aj - 1) * oj : 0;
                    pair += 2 * ok * (aj - 1) + whole;
                }
                maxPair = Math.max(maxPair, pair);
            }
        }
        return total + maxPair;
    }
}
