package dev.curvlab.curvature.kfac;

import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.curvature.spectrum.SymmetricEigen;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.model.Sequential;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * KFAC (KFC, the "expand" convention), EKFAC, exact GGN / MC-Fisher diagonals and the exact GGN of
 * any {@link Sequential}, convolutional networks included, for the mean loss L. Layers are the
 * {@link ParametricLayers}; each is {@code z_t = W~^T u_t} at T positions (dense: T = 1).
 *
 * <h2>KFC, expand (Grosse &amp; Martens 2016; Eschenhagen et al. 2023; curvlinops' kfac_approx="expand")</h2>
 * Every output position is treated like an extra sample:
 * <pre>
 *   A_l = 1 / (n T) sum_i sum_t u_{i,t} u_{i,t}^T                       [rows, rows]
 *   G_l = sum_i sum_t sum_c sign_{i,c} b_{i,c,t} b_{i,c,t}^T             [cols, cols]
 * </pre>
 * with {@code u} the unfolded patch plus a 1 and {@code b_{i,c,t} = (d f_i / d z_{l,t})^T r_{i,c}} the
 * root of the output Hessian {@code H_i = sum_c sign r r^T} (it carries the mean's 1/Z; MC and
 * empirical columns as {@link KfacVariant}) pulled back to position t. The block is
 * {@code A_l kron G_l} in the kron order of {@code W~ = [W^T; b^T]} (so the bias is A's last row, as
 * in the dense {@code [in+1, out]} convention). With T = 1 (a dense layer, or a conv whose kernel covers
 * the image) these are the dense formulas exactly. The exact block is
 * {@code GGN_l = sum_{i,c} sign vec(M_{i,c}) vec(M_{i,c})^T} with {@code M_{i,c} = sum_t u_{i,t} b_{i,c,t}^T};
 * KFC drops the cross-position and cross-sample correlations.
 *
 * <h2>EKFAC and diagonals</h2>
 * EKFAC re-fits {@code d = diag((Q_A kron Q_G)^T GGN_l (Q_A kron Q_G)) = sum_{i,c} sign (Q_A^T M_{i,c} Q_G)^2}
 * (elementwise square), exactly, from the per-sample terms; the exact GGN diagonal is the same sum
 * without rotation, the MC-Fisher diagonal the same with sampled-label columns. Every quantity is
 * computed per chunk by {@link ModuleTerms} (the generic engine); memory is one chunk plus the result.
 */
public final class ConvKfac {
    /** Samples per chunk at most. */
    static final int MAX_CHUNK = 256;

    private ConvKfac() {
    }

    /** What one pass does with a chunk's terms. */
    private interface Visitor {
        void visit(ModuleTerms terms);
    }

    /**
     * Upper bound of the native memory of {@link #compute}: the factors of every layer (EKFAC: with
     * their eigenbases, the re-fitted diagonal and a work copy) plus one chunk ({@link #chunkBytes}).
     */
    public static double memoryBytes(Sequential model, long samples, boolean ekfac) {
        double factors = 0;
        for (ParametricLayers.Entry e : ParametricLayers.of(model).entries()) {
            double a = (double) e.rows() * e.rows();
            double g = (double) e.cols() * e.cols();
            factors += ekfac ? 3 * (a + g) + e.size() : a + g;
        }
        return 8 * factors + chunkBytes(model, samples);
    }

    /**
     * Working memory of one chunk: per sample and output column, the pulled-back columns of every
     * layer, the per-sample gradients {@code M_{i,c}} and the engine's tangents of every activation,
     * with a factor 4 for intermediates; at most {@link #MAX_CHUNK} samples.
     */
    public static double chunkBytes(Sequential model, long samples) {
        double perColumn = 0;
        for (ParametricLayers.Entry e : ParametricLayers.of(model).entries()) {
            perColumn += (double) e.cols() * e.positions() + e.size() + e.rows() * e.positions();
        }
        for (long a : model.activationSizes()) {
            perColumn += a;
        }
        double perSample = 4 * perColumn * Math.max(1, model.outputSize());
        return 8.0 * perSample * Math.max(1, Math.min(samples, MAX_CHUNK));
    }

    /** KFAC factors (and EKFAC's diagonal when asked) of layers {@code first..} (index 0 of the result is {@code first}). */
    public static KfacFactors compute(Sequential model, Loss loss, Dataset data, INDArray theta, Kfac.Options o, int first,
            ProgressListener progress) {
        ParametricLayers layers = ParametricLayers.of(model);
        int covered = layers.count() - first;
        List<INDArray> a = new ArrayList<>();
        List<INDArray> g = new ArrayList<>();
        for (int l = first; l < layers.count(); l++) {
            a.add(Nd4j.zeros(DataType.DOUBLE, layers.get(l).rows(), layers.get(l).rows()));
            g.add(Nd4j.zeros(DataType.DOUBLE, layers.get(l).cols(), layers.get(l).cols()));
        }
        forEachChunk(model, loss, data, theta, o.variant(), o.samples(), o.seed(), first, progress, "kfac factors", t -> {
            for (int l = first; l < layers.count(); l++) {
                addFactors(t, l, a.get(l - first), g.get(l - first));
            }
        });
        for (int l = first; l < layers.count(); l++) {
            a.get(l - first).divi((double) data.n() * layers.get(l).positions());
        }
        boolean[] transposed = layers.transposedWeights(first);
        if (!o.ekfac()) {
            return new KfacFactors(o.variant(), a, g, null, null, transposed);
        }
        List<INDArray[]> bases = new ArrayList<>();
        List<INDArray> d = new ArrayList<>();
        for (int k = 0; k < covered; k++) {
            bases.add(new INDArray[] {SymmetricEigen.decompose(a.get(k)).vectors(), SymmetricEigen.decompose(g.get(k)).vectors()});
            d.add(Nd4j.zeros(DataType.DOUBLE, a.get(k).size(0), g.get(k).size(0)));
        }
        forEachChunk(model, loss, data, theta, o.variant(), o.samples(), o.seed(), first, progress, "ekfac diagonal", t -> {
            for (int l = first; l < layers.count(); l++) {
                INDArray[] q = bases.get(l - first);
                addSquares(t, l, q[0], q[1], d.get(l - first));
            }
        });
        return new KfacFactors(o.variant(), a, g, d, bases, transposed);
    }

    /**
     * The exact diagonal {@code [N]} (flat order) of the GGN ({@link DiagonalKind#GGN}) or the MC
     * Fisher of the mean loss; the Hessian's diagonal is for dense chains only ({@link CurvatureDiagonal}).
     */
    public static INDArray diagonal(DiagonalKind kind, Sequential model, Loss loss, Dataset data, INDArray theta, int samples, long seed,
            ProgressListener progress) {
        if (kind == DiagonalKind.HESSIAN) {
            throw new IllegalArgumentException("the exact Hessian diagonal is implemented for dense chains only; model " + model.describe()
                    + " has conv or pooling layers: use --of ggn or mc-fisher");
        }
        ParametricLayers layers = ParametricLayers.of(model);
        List<INDArray> d = new ArrayList<>();
        for (ParametricLayers.Entry e : layers.entries()) {
            d.add(Nd4j.zeros(DataType.DOUBLE, e.rows(), e.cols()));
        }
        KfacVariant variant = kind == DiagonalKind.MC_FISHER ? KfacVariant.MC : KfacVariant.EXACT;
        forEachChunk(model, loss, data, theta, variant, samples, seed, 0, progress, "diagonal (" + kind.id() + ")", t -> {
            for (int l = 0; l < layers.count(); l++) {
                addSquares(t, l, null, null, d.get(l));
            }
        });
        INDArray out = Nd4j.create(DataType.DOUBLE, model.parameterCount());
        for (int l = 0; l < layers.count(); l++) {
            ParametricLayers.Entry e = layers.get(l);
            out.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(e.offset(), e.offset() + e.size())).assign(toFlat(d.get(l), e));
        }
        return out;
    }

    /**
     * The exact GGN of the mean loss over layers {@code first..} ({@code [Ncov, Ncov]}, flat order):
     * {@code sum_{i,c} sign g_{i,c} g_{i,c}^T} with {@code g_{i,c} = J_i^T r_{i,c}} assembled from the
     * layers' {@code M_{i,c}}; one GEMM per chunk.
     */
    public static INDArray ggn(Sequential model, Loss loss, Dataset data, INDArray theta, int first, ProgressListener progress) {
        ParametricLayers layers = ParametricLayers.of(model);
        long n = layers.sizeFrom(first);
        INDArray ggn = Nd4j.zeros(DataType.DOUBLE, n, n);
        forEachChunk(model, loss, data, theta, KfacVariant.EXACT, 1, 0, first, progress, "ggn", t -> {
            INDArray rows = gradientRows(t, layers, first);                                 // [S, C, Ncov]
            long m = rows.size(0) * rows.size(1);
            INDArray r = rows.reshape('c', new long[] {m, n});
            INDArray sr = t.signs == null ? r : r.mulColumnVector(t.signs.reshape('c', new long[] {m, 1}));
            Nd4j.gemm(r, sr, ggn, true, false, 1.0, 1.0);
            Buffers.free(rows, sr);
        });
        return ggn;
    }

    /**
     * The Jacobian of the outputs in the parameters of layers {@code first..}, per input:
     * {@code [S, out, Ncov]} (flat order), with the outputs {@code [S, out]}.
     */
    public static INDArray[] jacobian(Sequential model, INDArray theta, INDArray x, int first) {
        ParametricLayers layers = ParametricLayers.of(model);
        ModuleTerms t = outputJacobianTerms(model, layers, theta, x, first);
        INDArray j = gradientRows(t, layers, first);
        INDArray f = t.outputs;
        t.free();
        return new INDArray[] {j, f};
    }

    /** The per-module terms pulled back from the identity on the outputs (one column per output unit): the rows of the output Jacobian. */
    private static ModuleTerms outputJacobianTerms(Sequential model, ParametricLayers layers, INDArray theta, INDArray x, int first) {
        long out = model.outputSize();
        return ModuleTerms.of(model, layers, theta, x, f -> {
            INDArray eye = Nd4j.eye(out).castTo(DataType.DOUBLE).reshape(1, out, out);
            return new ColumnBlock(Nd4j.zeros(DataType.DOUBLE, f.size(0), out, out).addi(eye), null);
        }, first);
    }

    /**
     * The Jacobian of the outputs in each covered layer's parameters, per input, in that layer's
     * Kronecker basis: for layer {@code first + k}, {@code [S, out, rows, cols]} (kron order, row-major)
     * holding {@code Q_A^T M_{i,o} Q_G} with {@code bases.get(k) = {Q_A, Q_G}}. The outputs {@code [S, out]}
     * are in {@code outputs[0]}.
     */
    public static List<double[]> jacobianInBases(Sequential model, INDArray theta, INDArray x, int first, List<INDArray[]> bases,
            INDArray[] outputs) {
        ParametricLayers layers = ParametricLayers.of(model);
        ModuleTerms t = outputJacobianTerms(model, layers, theta, x, first);
        List<double[]> result = new ArrayList<>();
        for (int l = first; l < layers.count(); l++) {
            result.add(kronGradients(t, l, bases.get(l - first)[0], bases.get(l - first)[1]));
        }
        outputs[0] = t.outputs;
        t.free();
        return result;
    }

    /** {@code [S, C, Ncov]}: per sample and column, {@code vec(M_{i,c})} of each covered layer in the flat order. */
    private static INDArray gradientRows(ModuleTerms t, ParametricLayers layers, int first) {
        long s = t.samples();
        long c = t.columns[layers.count() - 1].size(1);
        long n = layers.sizeFrom(first);
        double[] rows = new double[Math.toIntExact(s * c * n)];
        long off = 0;
        for (int l = first; l < layers.count(); l++) {
            ParametricLayers.Entry e = layers.get(l);
            double[] m = kronGradients(t, l, null, null);
            int[] perm = ParametricLayers.flatToKron(e.rows(), e.cols(), e.conv());
            int size = perm.length;
            for (int ic = 0; ic < s * c; ic++) {
                for (int k = 0; k < size; k++) {
                    rows[(int) (ic * n + off + k)] = m[ic * size + perm[k]];
                }
            }
            off += size;
        }
        return Nd4j.create(rows, new long[] {s, c, n}, DataType.DOUBLE);
    }

    /** {@code a += sum_{i,t} u u^T}, {@code g += sum_{i,c,t} sign b b^T} for layer l. */
    private static void addFactors(ModuleTerms t, int l, INDArray a, INDArray g) {
        INDArray u = t.inputs[l];
        INDArray u2 = u.reshape('c', new long[] {u.size(0) * u.size(1), u.size(2)});
        Nd4j.gemm(u2, u2, a, true, false, 1.0, 1.0);
        INDArray b = t.columns[l];
        long s = b.size(0);
        long c = b.size(1);
        INDArray b2 = b.reshape('c', new long[] {s * c, b.size(2) * b.size(3)});
        INDArray sb = t.signs == null ? b2 : b2.mulColumnVector(t.signs.reshape('c', new long[] {s * c, 1}));
        INDArray rowsB = b2.reshape('c', new long[] {s * c * b.size(2), b.size(3)});
        INDArray rowsSb = sb.reshape('c', new long[] {s * c * b.size(2), b.size(3)});
        Nd4j.gemm(rowsB, rowsSb, g, true, false, 1.0, 1.0);
        if (sb != b2) {
            Buffers.free(sb);
        }
    }

    /** {@code d += sum_{i,c} sign (Q_A^T M_{i,c} Q_G)^2} ({@code [rows, cols]}; q null for the identity). */
    private static void addSquares(ModuleTerms t, int l, INDArray qa, INDArray qg, INDArray d) {
        double[] m = kronGradients(t, l, qa, qg);
        double[] signs = t.signs == null ? null : dev.curvlab.core.kernels.RawAccess.readAll(t.signs.dup('c'));
        int size = (int) d.length();
        double[] acc = new double[size];
        int groups = m.length / size;
        for (int ic = 0; ic < groups; ic++) {
            double sign = signs == null ? 1 : signs[ic];
            for (int k = 0; k < size; k++) {
                double v = m[ic * size + k];
                acc[k] += sign * v * v;
            }
        }
        d.addi(Nd4j.create(acc, d.shape(), DataType.DOUBLE));
    }

    /**
     * {@code M_{i,c} = (U_i Q_A)^T (B_{i,c} Q_G)} for every sample and column, {@code [S, C, rows, cols]}
     * row-major (kron order); q null for the identity.
     */
    static double[] kronGradients(ModuleTerms t, int l, INDArray qa, INDArray qg) {
        INDArray u = t.inputs[l];
        INDArray b = t.columns[l];
        int s = (int) b.size(0);
        int c = (int) b.size(1);
        int positions = (int) b.size(2);
        int cols = (int) b.size(3);
        int rows = (int) u.size(2);
        double[] uv = dev.curvlab.core.kernels.RawAccess.readAll(rotate(u, qa));
        double[] bv = dev.curvlab.core.kernels.RawAccess.readAll(rotate(b, qg));
        double[] m = new double[s * c * rows * cols];
        for (int i = 0; i < s; i++) {
            for (int k = 0; k < c; k++) {
                int mo = (i * c + k) * rows * cols;
                for (int p = 0; p < positions; p++) {
                    int uo = (i * positions + p) * rows;
                    int bo = ((i * c + k) * positions + p) * cols;
                    for (int r = 0; r < rows; r++) {
                        double ur = uv[uo + r];
                        if (ur == 0) {
                            continue;
                        }
                        for (int f = 0; f < cols; f++) {
                            m[mo + r * cols + f] += ur * bv[bo + f];
                        }
                    }
                }
            }
        }
        return m;
    }

    /** {@code x q} over the last axis (C order), or a C-order copy of x when q is null. */
    private static INDArray rotate(INDArray x, INDArray q) {
        if (q == null) {
            return x.dup('c');
        }
        long last = x.size(x.rank() - 1);
        INDArray flat = x.dup('c').reshape('c', new long[] {x.length() / last, last});
        return flat.mmul(q).dup('c');
    }

    /** A kron-order {@code [rows, cols]} block as the layer's flat parameter vector. */
    static INDArray toFlat(INDArray kronBlock, ParametricLayers.Entry e) {
        double[] k = dev.curvlab.core.kernels.RawAccess.readAll(kronBlock.dup('c'));
        int[] perm = ParametricLayers.flatToKron(e.rows(), e.cols(), e.conv());
        double[] flat = new double[perm.length];
        for (int i = 0; i < perm.length; i++) {
            flat[i] = k[perm[i]];
        }
        return Nd4j.create(flat, new long[] {flat.length}, DataType.DOUBLE);
    }

    /** Runs {@code visitor} on the terms of every chunk of the data (the variant's output columns for the mean loss). */
    private static void forEachChunk(Sequential model, Loss loss, Dataset data, INDArray theta, KfacVariant variant, int mcSamples, long seed,
            int first, ProgressListener progress, String task, Visitor visitor) {
        model.validate(theta.shape(), data.x().shape());
        ParametricLayers layers = ParametricLayers.of(model);
        INDArray targets = loss.prepare(data.y(), model.outputSize()).array();
        double scale = 1.0 / loss.normalizer(data.n(), model.outputSize());
        long n = data.n();
        long width = 1;
        for (ParametricLayers.Entry e : layers.entries()) {
            width += Math.max(e.cols() * e.positions(), e.size());
        }
        long columns = Math.max(1, Kfac.columnsPerSample(new Kfac.Options(variant, mcSamples, seed, false), model.outputSize()));
        long chunk = Math.max(1, Math.min(Math.min(n, MAX_CHUNK), SampleChunks.CHUNK_DOUBLES / (columns * width)));
        for (long start = 0; start < n; start += chunk) {
            long end = Math.min(n, start + chunk);
            INDArray x = rows(data.x(), start, end);
            INDArray y = rows(targets, start, end);
            long chunkSeed = seed + 0x9E3779B97F4A7C15L * (start + 1);
            ModuleTerms t = ModuleTerms.of(model, layers, theta, x, f -> OutputColumns.of(variant, loss, f, y, scale, mcSamples, chunkSeed), first);
            visitor.visit(t);
            t.free();
            Buffers.free(x, y);
            progress.progress(task, end, n);
        }
    }

    /** Rows {@code [start, end)} of an array of any rank, as a C-order copy. */
    static INDArray rows(INDArray a, long start, long end) {
        org.nd4j.linalg.indexing.INDArrayIndex[] idx = new org.nd4j.linalg.indexing.INDArrayIndex[a.rank()];
        Arrays.fill(idx, org.nd4j.linalg.indexing.NDArrayIndex.all());
        idx[0] = org.nd4j.linalg.indexing.NDArrayIndex.interval(start, end);
        return a.get(idx).dup('c');
    }
}
