package dev.curvlab.curvature.hessian;

import dev.curvlab.core.kernels.RawAccess;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Writes one layer pair {@code (k, j)}, k &lt;= j, of the structured Hessian (formula in
 * {@link StructuredHessian}): the block {@code H_kj} and its mirror {@code H_jk}, both from the same
 * products, so the matrix is exactly symmetric by construction.
 *
 * <p>The pair is produced for a group of inputs i' of layer j at a time. One GEMM over the samples
 * gives
 * <pre>
 *   C[(i', i), (o, p)] = scale * sum_s u_j[s, i'] u_k[s, i] R_kj[s, o, p]      (+ first-order term, k &lt; j)
 * </pre>
 * which is {@code H_kj[(i, o), (i', p)] = H_jk[(i', p), (i, o)]}. For a diagonal block only the
 * pairs {@code i <= i'} are formed (half the flops); {@code i = i'} uses
 * {@code C[(i, i), (min(o, p), max(o, p))]}. The Khatri-Rao factor {@code u_j (x) u_k} is built in
 * Java; the destination's entries are gathered from C by direct native element access
 * ({@link RawAccess#elements}): upper rows {@code (i, o)} over columns {@code (i' in group, p)}, lower
 * rows {@code (i', p)} over columns {@code (i, o)}. No transposing pass, no block-sized temporary.
 */
final class KroneckerBlocks {
    private KroneckerBlocks() {
    }

    /**
     * What every pair of one operator shares: drop the second-order network terms (GGN), the
     * operator's scale relative to the summed loss, and where each layer's parameters start.
     */
    record Settings(boolean gaussNewton, double scale, long[] layerOffsets) {
    }

    /**
     * The sizes of one layer pair (k, j) and where R_kj's entry (o, p) sits in a product row:
     * {@code o * strideO + p * strideP} (adjacent pairs receive R^T, so (p, o)).
     */
    private static final class PairShape {
        final int k;
        final int j;
        final boolean diagonal;
        final int samples;
        final int inputsK;        // A_k = in_k + 1
        final int outputsK;
        final int inputsJ;        // A_j = in_j + 1
        final int outputsJ;
        final int width;          // out_k * out_j: columns of a product row (i', i)
        final int strideO;
        final int strideP;
        final long offsetK;
        final long offsetJ;

        PairShape(LayerStates st, int k, int j, long[] layerOffsets) {
            this.k = k;
            this.j = j;
            diagonal = k == j;
            samples = (int) st.samples;
            inputsK = (int) st.aug[k].size(1);
            outputsK = (int) st.g[k].size(1);
            inputsJ = (int) st.aug[j].size(1);
            outputsJ = (int) st.g[j].size(1);
            width = outputsK * outputsJ;
            boolean transposed = j == k + 1;
            strideO = transposed ? 1 : outputsJ;
            strideP = transposed ? outputsK : 1;
            offsetK = layerOffsets[k];
            offsetJ = layerOffsets[j];
        }

        /** First product row of input i' in a group starting at {@code first}: pairs {@code (i', i)}, i &lt; A_k (i &lt;= i' on the diagonal). */
        int rowStart(int first, int inputJ) {
            return diagonal ? (inputJ * (inputJ + 1) - first * (first + 1)) / 2 : (inputJ - first) * inputsK;
        }
    }

    /** Inputs {@code [first, end)} of layer j, whose product rows are {@code [0, rows)}. */
    private record Group(int first, int end, int rows) {
    }

    /**
     * The first-order term of a non-diagonal pair of the Hessian (none for the GGN or a diagonal
     * block), prepared once per pair in the form its size allows: for adjacent layers
     * {@code adjacent: [A_k, out_k, out_j]}; for others all inputs of layer j at once
     * ({@code whole: [A_k, out_k, in_j, out_j]}) or, when that is too large, per group from the
     * input Jacobian {@code jacobian: [S, out_k, in_j]} and {@code gradJ: [S, out_j]}.
     */
    private record FirstOrder(double[] adjacent, double[] whole, double[] jacobian, double[] gradJ) {
        static final FirstOrder NONE = new FirstOrder(null, null, null, null);

        boolean perGroup() {
            return jacobian != null;
        }

        boolean nonAdjacent() {
            return whole != null || jacobian != null;
        }
    }

    /** Writes {@code scale * H_kj} and {@code scale * H_jk} of one chunk of samples to {@code d}, group of inputs by group. */
    static void pair(LayerStates st, int k, int j, Settings settings, BlockDestination d, KroneckerWorkspace ws) {
        PairShape shape = new PairShape(st, k, j, settings.layerOffsets());
        INDArray curvature = pairCurvature(st, shape);                                      // R_kj (or R^T): [S, out_k, out_j]
        INDArray curvatureRows = curvature.reshape('c', new long[] {shape.samples, shape.width});
        double[] inputsK = ws.copyOf(KroneckerWorkspace.Copy.INPUTS_K, st.aug[k]);
        double[] inputsJ = shape.diagonal ? inputsK : ws.copyOf(KroneckerWorkspace.Copy.INPUTS_J, st.aug[j]);
        FirstOrder firstOrder = firstOrder(st, shape, settings, ws);
        for (int first = 0; first < shape.inputsJ;) {
            Group group = group(shape, first, firstOrder.nonAdjacent(), ws);
            INDArray products = secondOrderProducts(shape, group, inputsK, inputsJ, curvatureRows, settings.scale(), ws);
            RawAccess.Elements c = RawAccess.elements(products);
            addFirstOrder(c, st, shape, group, firstOrder, settings.scale(), ws);
            writeUpper(c, shape, group, d);
            writeLower(c, shape, group, d);
            first = group.end();
        }
        if (!shape.diagonal) {
            curvature.close();                                                               // (the diagonal's is M_k itself)
        }
    }

    /** R_kj as {@code [S, out_k, out_j]}: M_k on the diagonal, R^T from one broadcast multiply for adjacent layers, else S_kj M_j. */
    private static INDArray pairCurvature(LayerStates st, PairShape shape) {
        if (shape.diagonal) {
            return st.m[shape.k];
        }
        return shape.j == shape.k + 1 ? st.adjacentRTransposed(shape.k) : Nd4j.matmul(st.s(shape.k, shape.j), st.m[shape.j]);
    }

    /** The first-order term's factors for this pair (see {@link FirstOrder}). */
    private static FirstOrder firstOrder(LayerStates st, PairShape shape, Settings settings, KroneckerWorkspace ws) {
        if (shape.diagonal || settings.gaussNewton()) {
            return FirstOrder.NONE;
        }
        if (shape.j == shape.k + 1) {
            INDArray e = adjacentFirstOrder(st, shape.k, shape.j, settings.scale());
            double[] adjacent = ws.copyOf(KroneckerWorkspace.Copy.FIRST_ORDER, e);
            e.close();
            return new FirstOrder(adjacent, null, null, null);
        }
        INDArray jacobian = st.inputJacobian(shape.k, shape.j);
        int inputs = shape.inputsJ - 1;
        try {
            if ((long) shape.inputsK * shape.outputsK * inputs * shape.outputsJ <= ws.limit) {
                return new FirstOrder(null, firstOrderWhole(st, shape.k, shape.j, settings.scale(), jacobian, ws), null, null);
            }
            return new FirstOrder(null, null, ws.copyOf(KroneckerWorkspace.Copy.FIRST_ORDER, jacobian), ws.copyOf(KroneckerWorkspace.Copy.GRADIENT_J, st.g[shape.j]));
        } finally {
            jacobian.close();
        }
    }

    /**
     * The next group of inputs of layer j from {@code first}: as many as keep its product within
     * the workspace limit (and, with a per-group first-order factor, that factor too).
     */
    private static Group group(PairShape shape, int first, boolean firstOrderFactor, KroneckerWorkspace ws) {
        long maxRows = Math.max(1, Math.min(ws.limit / shape.width, ws.limit / shape.samples));
        int end = first + 1;
        while (end < shape.inputsJ && shape.rowStart(first, end + 1) <= maxRows
                && (!firstOrderFactor || (long) (end + 1 - first) * Math.max(shape.samples, shape.inputsK) * shape.width <= ws.limit)) {
            end++;
        }
        return new Group(first, end, shape.rowStart(first, end));
    }

    /**
     * The group's second-order products, one GEMM over the samples:
     * {@code C[(i', i), (o, p)] = scale * sum_s u_j[s, i'] u_k[s, i] R[s, (o, p)]}, {@code [rows, width]},
     * with the Khatri-Rao factor {@code u_j (x) u_k} built in Java (on the diagonal, i &lt;= i' only).
     */
    private static INDArray secondOrderProducts(PairShape shape, Group group, double[] inputsK, double[] inputsJ, INDArray curvatureRows,
            double scale, KroneckerWorkspace ws) {
        int samples = shape.samples;
        int rows = group.rows();
        double[] khatriRao = ws.kr(samples * rows);
        for (int s = 0; s < samples; s++) {
            for (int inputJ = group.first(); inputJ < group.end(); inputJ++) {
                double uj = inputsJ[s * shape.inputsJ + inputJ];
                int base = s * rows + shape.rowStart(group.first(), inputJ);
                int count = shape.diagonal ? inputJ + 1 : shape.inputsK;
                for (int i = 0; i < count; i++) {
                    khatriRao[base + i] = uj * inputsK[s * shape.inputsK + i];
                }
            }
        }
        INDArray factor = ws.factor(samples, rows);
        RawAccess.write(factor, 0, khatriRao, 0, samples * rows);
        INDArray products = ws.product(rows, shape.width);
        Nd4j.gemm(factor, curvatureRows, products, true, false, scale, 0.0);
        return products;
    }

    /** Adds the group's first-order term (if the pair has one) to its products {@code c}. */
    private static void addFirstOrder(RawAccess.Elements c, LayerStates st, PairShape shape, Group group, FirstOrder firstOrder, double scale,
            KroneckerWorkspace ws) {
        if (firstOrder.adjacent() != null) {
            addAdjacentFirstOrder(c, shape, group, firstOrder.adjacent());
            return;
        }
        int count = Math.min(group.end(), shape.inputsJ - 1) - group.first();    // the bias input (i' = in_j) has no first-order term
        if (count <= 0) {
            return;
        }
        if (firstOrder.whole() != null) {
            addFirstOrderWhole(c, shape, group, count, firstOrder.whole());
        } else if (firstOrder.perGroup()) {
            addFirstOrderGroup(c, shape, group, count, firstOrderGroup(st, shape, firstOrder, group, count, scale, ws));
        }
    }

    /** Adjacent layers: {@code d u_j / d z_k = [diag(s_k'), 0]}, so only inputs {@code i' = o < out_k} get {@code E[i, o, p]}. */
    private static void addAdjacentFirstOrder(RawAccess.Elements c, PairShape shape, Group group, double[] e) {
        for (int inputJ = group.first(); inputJ < Math.min(group.end(), shape.outputsK); inputJ++) {
            int rowStart = shape.rowStart(group.first(), inputJ);
            for (int i = 0; i < shape.inputsK; i++) {
                for (int p = 0; p < shape.outputsJ; p++) {
                    c.add((long) (rowStart + i) * shape.width + inputJ * shape.strideO + p * shape.strideP,
                            e[(i * shape.outputsK + inputJ) * shape.outputsJ + p]);
                }
            }
        }
    }

    /** Non-adjacent layers, from the factor of all inputs {@code [A_k, out_k, in_j, out_j]}. */
    private static void addFirstOrderWhole(RawAccess.Elements c, PairShape shape, Group group, int count, double[] whole) {
        int inputs = shape.inputsJ - 1;
        for (int i = 0; i < shape.inputsK; i++) {
            for (int q = 0; q < count; q++) {
                long row = (long) (shape.rowStart(group.first(), group.first() + q) + i) * shape.width;
                for (int o = 0; o < shape.outputsK; o++) {
                    int src = ((i * shape.outputsK + o) * inputs + group.first() + q) * shape.outputsJ;
                    for (int p = 0; p < shape.outputsJ; p++) {
                        c.add(row + o * shape.strideO + p * shape.strideP, whole[src + p]);
                    }
                }
            }
        }
    }

    /** Non-adjacent layers, from the group's factor {@code [A_k, count, out_k, out_j]}. */
    private static void addFirstOrderGroup(RawAccess.Elements c, PairShape shape, Group group, int count, double[] f) {
        for (int i = 0; i < shape.inputsK; i++) {
            for (int q = 0; q < count; q++) {
                long row = (long) (shape.rowStart(group.first(), group.first() + q) + i) * shape.width;
                int src = (i * count + q) * shape.width;
                for (int o = 0; o < shape.outputsK; o++) {
                    for (int p = 0; p < shape.outputsJ; p++) {
                        c.add(row + o * shape.strideO + p * shape.strideP, f[src + o * shape.outputsJ + p]);
                    }
                }
            }
        }
    }

    /** Rows {@code (i, o)} of H_kj, columns {@code (i' in group, p)} (on the diagonal, i' &gt;= i only). */
    private static void writeUpper(RawAccess.Elements c, PairShape shape, Group group, BlockDestination d) {
        int outK = shape.outputsK;
        int outJ = shape.outputsJ;
        IntStream.range(0, shape.diagonal ? Math.min(shape.inputsK, group.end()) : shape.inputsK).parallel().forEach(i -> {
            int start = shape.diagonal ? Math.max(i, group.first()) : group.first();
            for (int o = 0; o < outK; o++) {
                long global = shape.offsetK + (long) i * outK + o;
                if (!d.wants(global)) {
                    continue;
                }
                long dst = d.flat(global, shape.offsetJ + (long) start * outJ);
                for (int inputJ = start; inputJ < group.end(); inputJ++, dst += outJ) {
                    long src = (long) (shape.rowStart(group.first(), inputJ) + i) * shape.width;
                    if (shape.diagonal && inputJ == i) {
                        for (int p = 0; p < outJ; p++) {
                            d.put(dst + p, c.get(src + Math.min(o, p) * outJ + Math.max(o, p)));
                        }
                    } else {
                        src += (long) o * shape.strideO;
                        for (int p = 0; p < outJ; p++) {
                            d.put(dst + p, c.get(src + (long) p * shape.strideP));
                        }
                    }
                }
            }
        });
    }

    /** Rows {@code (i', p)}, i' in the group, of H_jk over columns {@code (i, o)} (on the diagonal, i &lt; i' only). */
    private static void writeLower(RawAccess.Elements c, PairShape shape, Group group, BlockDestination d) {
        IntStream.range(group.first(), group.end()).parallel().forEach(inputJ -> {
            int count = shape.diagonal ? inputJ : shape.inputsK;
            long firstRow = shape.offsetJ + (long) inputJ * shape.outputsJ;
            if (count == 0 || !d.wants(firstRow)) {
                return;
            }
            long rowStart = shape.rowStart(group.first(), inputJ);
            for (int p = 0; p < shape.outputsJ; p++) {
                long dst = d.flat(firstRow + p, shape.offsetK);            // row (i', p) is written left to right
                for (int i = 0; i < count; i++) {
                    long src = (rowStart + i) * shape.width + (long) p * shape.strideP;
                    for (int o = 0; o < shape.outputsK; o++, dst++) {
                        d.put(dst, c.get(src + (long) o * shape.strideO));
                    }
                }
            }
        });
    }

    /**
     * First-order term for non-adjacent layers, all inputs of layer j at once (when it is small):
     * {@code u_k^T Y} with {@code Y[s, (o, i', p)] = T[s, o, i'] g_j[s, p]}, one broadcast multiply
     * and one GEMM, returned as {@code [A_k, out_k, in_j, out_j]}.
     */
    private static double[] firstOrderWhole(LayerStates st, int k, int j, double scale, INDArray jacobian, KroneckerWorkspace ws) {
        long samples = st.samples;
        long inputsK = st.aug[k].size(1);
        long outK = jacobian.size(1);
        long inputs = jacobian.size(2);
        long outJ = st.g[j].size(1);
        INDArray factor = jacobian.reshape('c', new long[] {samples, outK, inputs, 1}).mul(st.g[j].reshape('c', new long[] {samples, 1, 1, outJ}))
                .reshape('c', new long[] {samples, outK * inputs * outJ});
        INDArray product = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {inputsK, outK * inputs * outJ}, 'c');
        Nd4j.gemm(st.aug[k], factor, product, true, false, scale, 0.0);
        double[] out = ws.copyOf(KroneckerWorkspace.Copy.FIRST_ORDER, product);
        factor.close();
        product.close();
        return out;
    }

    /**
     * First-order term for non-adjacent layers and the group's first {@code count} inputs of layer j
     * (all below its bias input): {@code u_k^T Y} with {@code Y[s, (i', o, p)] = T[s, o, i'] g_j[s, p]}
     * built in Java from the pair's input Jacobian and {@code g_j}, one GEMM, returned as
     * {@code [A_k, count, out_k, out_j]}.
     */
    private static double[] firstOrderGroup(LayerStates st, PairShape shape, FirstOrder firstOrder, Group group, int count, double scale,
            KroneckerWorkspace ws) {
        int samples = shape.samples;
        int inputs = shape.inputsJ - 1;
        int outK = shape.outputsK;
        int outJ = shape.outputsJ;
        int rowWidth = count * outK * outJ;
        double[] jacobian = firstOrder.jacobian();
        double[] gradJ = firstOrder.gradJ();
        double[] factor = ws.kr(samples * rowWidth);
        for (int s = 0; s < samples; s++) {
            for (int q = 0; q < count; q++) {
                for (int o = 0; o < outK; o++) {
                    double t = jacobian[(s * outK + o) * inputs + group.first() + q];
                    int base = s * rowWidth + (q * outK + o) * outJ;
                    for (int p = 0; p < outJ; p++) {
                        factor[base + p] = t * gradJ[s * outJ + p];
                    }
                }
            }
        }
        INDArray factorN = ws.factor(samples, rowWidth);
        RawAccess.write(factorN, 0, factor, 0, samples * rowWidth);
        INDArray product = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {shape.inputsK, rowWidth}, 'c');
        Nd4j.gemm(st.aug[shape.k], factorN, product, true, false, scale, 0.0);
        double[] out = ws.copyOf(KroneckerWorkspace.Copy.GROUP_FIRST_ORDER, product);
        product.close();
        return out;
    }

    /**
     * First-order term for {@code j = k + 1}: {@code d u_j / d z_k = [diag(s_k'), 0]}, so the term is
     * {@code delta(o, i') E[i, o, p]} with {@code E = u_k^T (s_k' (x) g_j)}, {@code [A_k, out_k, out_j]}.
     */
    private static INDArray adjacentFirstOrder(LayerStates st, int k, int j, double scale) {
        long samples = st.samples;
        long inputsK = st.aug[k].size(1);
        long outK = st.g[k].size(1);
        long outJ = st.g[j].size(1);
        INDArray factor = st.d1[k].reshape(samples, outK, 1).mul(st.g[j].reshape(samples, 1, outJ)).reshape('c', new long[] {samples, outK * outJ});
        INDArray e = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {inputsK, outK * outJ}, 'c');
        Nd4j.gemm(st.aug[k], factor, e, true, false, scale, 0.0);
        factor.close();
        return e.reshape('c', new long[] {inputsK, outK, outJ});
    }
}
