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
     * A row-major destination holding global rows {@code [row0, row0 + rows)} and columns from
     * {@code col0}; rows outside it are skipped. With {@code accumulate}, values are added to what is there.
     */
    static final class Destination {
        private final long row0;
        private final long col0;
        private final long rows;
        private final long width;
        private final boolean accumulate;
        private final RawAccess.Elements elements;

        Destination(INDArray dest, long row0, long col0, boolean accumulate) {
            this.row0 = row0;
            this.col0 = col0;
            this.rows = dest.size(0);
            this.width = dest.size(1);
            this.accumulate = accumulate;
            this.elements = RawAccess.elements(dest);
        }

        boolean wants(long row) {
            long r = row - row0;
            return r >= 0 && r < rows;
        }

        /** Flat index of global {@code (row, col)}. */
        long flat(long row, long col) {
            return (row - row0) * width + (col - col0);
        }

        void put(long flat, double v) {
            if (accumulate) {
                elements.add(flat, v);
            } else {
                elements.set(flat, v);
            }
        }
    }

    /** Scratch space reused across pairs: native GEMM operands and Java staging arrays. */
    static final class Workspace {
        /** Largest GEMM result or factor per group by default: 28 MB (below glibc's 32 MB mapping threshold, so reused). */
        static final long BUFFER_DOUBLES = 7L << 19;
        /** Group sizes keep each GEMM result and factor within this many doubles (tests set it tiny to exercise grouping). */
        final long limit;
        private INDArray product;
        private INDArray factor;
        private double[] kr = new double[0];

        Workspace() {
            this(BUFFER_DOUBLES);
        }

        Workspace(long limit) {
            this.limit = limit;
        }

        /** The buffer, or a larger one (by half again) when it holds fewer than {@code need} doubles. */
        private static INDArray ensure(INDArray buffer, long need) {
            if (buffer != null && buffer.length() >= need) {
                return buffer;
            }
            long grown = buffer == null ? need : Math.max(need, buffer.length() * 3 / 2);
            return Nd4j.createUninitialized(DataType.DOUBLE, new long[] {grown}, 'c');
        }

        /** A C-order {@code [r, c]} view over the start of a buffer. */
        private static INDArray view(INDArray buffer, long r, long c) {
            return Nd4j.create(buffer.data(), new long[] {r, c}, new long[] {c, 1}, 0, 'c');
        }

        /** The GEMM result of a group, {@code [r, c]}. */
        INDArray product(long r, long c) {
            product = ensure(product, r * c);
            return view(product, r, c);
        }

        /** The Khatri-Rao (or first-order) factor of a group, {@code [r, c]}. */
        INDArray factor(long r, long c) {
            factor = ensure(factor, r * c);
            return view(factor, r, c);
        }

        double[] kr(int n) {
            return kr = grow(kr, n);
        }

        private static double[] grow(double[] a, int n) {
            return a.length >= n ? a : new double[n];
        }
    }

    /** Writes {@code scale * H_kj} and {@code scale * H_jk} of one chunk of samples to {@code d}. */
    static void pair(LayerStates st, int k, int j, boolean ggn, double scale, long offK, long offJ, Destination d, Workspace ws) {
        boolean diag = k == j;
        int s = (int) st.samples;
        int a = (int) st.aug[k].size(1);
        int ok = (int) st.g[k].size(1);
        int b = (int) st.aug[j].size(1);
        int oj = (int) st.g[j].size(1);
        int cols = ok * oj;
        // R_kj as [S, (o, p)] (column o * so + p * sp); adjacent pairs get R^T from one broadcast multiply, so (p, o)
        boolean transposed = j == k + 1;
        INDArray r = diag ? st.m[k] : transposed ? st.adjacentRTransposed(k) : Nd4j.matmul(st.s(k, j), st.m[j]);
        int so = transposed ? 1 : oj;
        int sp = transposed ? ok : 1;
        INDArray rFlat = r.reshape('c', new long[] {s, cols});
        double[] uk = RawAccess.readAll(st.aug[k]);
        double[] uj = diag ? uk : RawAccess.readAll(st.aug[j]);
        boolean firstOrder = !diag && !ggn;
        double[] e = firstOrder && j == k + 1 ? RawAccess.readAll(adjacentFirstOrder(st, k, j, scale)) : null;   // [A, ok, oj]
        INDArray t = firstOrder && j > k + 1 ? st.inputJacobian(k, j) : null;                 // [S, ok, in_j]
        int in = b - 1;
        boolean whole = t != null && (long) a * ok * in * oj <= ws.limit;
        double[] fAll = whole ? firstOrderWhole(st, k, j, scale, t) : null;                    // [A, ok, in_j, oj]
        double[] tj = t != null && !whole ? RawAccess.readAll(t) : null;
        double[] gj = t != null && !whole ? RawAccess.readAll(st.g[j]) : null;
        long maxRows = Math.max(1, Math.min(ws.limit / cols, ws.limit / s));
        for (int i0 = 0; i0 < b;) {
            int i1 = i0 + 1;
            while (i1 < b && rowStart(diag, a, i0, i1 + 1) <= maxRows && (t == null || (long) (i1 + 1 - i0) * Math.max(s, a) * cols <= ws.limit)) {
                i1++;
            }
            int rows = rowStart(diag, a, i0, i1);
            double[] kr = ws.kr(s * rows);
            for (int x = 0; x < s; x++) {
                for (int ip = i0; ip < i1; ip++) {
                    double v = uj[x * b + ip];
                    int base = x * rows + rowStart(diag, a, i0, ip);
                    int width = diag ? ip + 1 : a;
                    for (int i = 0; i < width; i++) {
                        kr[base + i] = v * uk[x * a + i];
                    }
                }
            }
            INDArray krN = ws.factor(s, rows);
            RawAccess.write(krN, 0, kr, 0, s * rows);
            INDArray cN = ws.product(rows, cols);
            Nd4j.gemm(krN, rFlat, cN, true, false, scale, 0.0);
            RawAccess.Elements c = RawAccess.elements(cN);
            if (e != null) {
                for (int ip = i0; ip < Math.min(i1, ok); ip++) {     // d u_j / d z_k = [diag(s_k'), 0]: only i' = o < out_k
                    int rs = rowStart(diag, a, i0, ip);
                    for (int i = 0; i < a; i++) {
                        for (int p = 0; p < oj; p++) {
                            c.add((long) (rs + i) * cols + ip * so + p * sp, e[(i * ok + ip) * oj + p]);
                        }
                    }
                }
            }
            int g = Math.min(i1, b - 1) - i0;                    // the bias input (i' = in_j) has no first-order term
            if (fAll != null && g > 0) {
                for (int i = 0; i < a; i++) {
                    for (int q = 0; q < g; q++) {
                        long dst = (long) (rowStart(diag, a, i0, i0 + q) + i) * cols;
                        for (int o = 0; o < ok; o++) {
                            int src = ((i * ok + o) * in + i0 + q) * oj;
                            for (int p = 0; p < oj; p++) {
                                c.add(dst + o * so + p * sp, fAll[src + p]);
                            }
                        }
                    }
                }
            } else if (t != null && g > 0) {
                double[] f = firstOrderGroup(st, k, scale, tj, gj, in, ok, oj, i0, g, ws);         // [A, g, ok, oj]
                for (int i = 0; i < a; i++) {
                    for (int q = 0; q < g; q++) {
                        long dst = (long) (rowStart(diag, a, i0, i0 + q) + i) * cols;
                        int src = (i * g + q) * cols;
                        for (int o = 0; o < ok; o++) {
                            for (int p = 0; p < oj; p++) {
                                c.add(dst + o * so + p * sp, f[src + o * oj + p]);
                            }
                        }
                    }
                }
            }
            writeUpper(c, diag, a, ok, oj, so, sp, i0, i1, offK, offJ, d);
            writeLower(c, diag, a, ok, oj, so, sp, i0, i1, offK, offJ, d);
            i0 = i1;
        }
    }

    /** First row of input i' in a group starting at i0: pairs {@code (i', i)}, i &lt; A (i &lt;= i' on the diagonal). */
    private static int rowStart(boolean diag, int a, int i0, int ip) {
        return diag ? (ip * (ip + 1) - i0 * (i0 + 1)) / 2 : (ip - i0) * a;
    }

    /** Rows {@code (i, o)} of H_kj, columns {@code (i' in group, p)} (on the diagonal, i' &gt;= i only). */
    private static void writeUpper(RawAccess.Elements c, boolean diag, int a, int ok, int oj, int so, int sp, int i0, int i1, long offK, long offJ,
            Destination d) {
        int cols = ok * oj;
        IntStream.range(0, diag ? Math.min(a, i1) : a).parallel().forEach(i -> {
            int start = diag ? Math.max(i, i0) : i0;
            for (int o = 0; o < ok; o++) {
                long global = offK + (long) i * ok + o;
                if (!d.wants(global)) {
                    continue;
                }
                long dst = d.flat(global, offJ + (long) start * oj);
                for (int ip = start; ip < i1; ip++, dst += oj) {
                    long src = (long) (rowStart(diag, a, i0, ip) + i) * cols;
                    if (diag && ip == i) {
                        for (int p = 0; p < oj; p++) {
                            d.put(dst + p, c.get(src + Math.min(o, p) * oj + Math.max(o, p)));
                        }
                    } else {
                        src += (long) o * so;
                        for (int p = 0; p < oj; p++) {
                            d.put(dst + p, c.get(src + (long) p * sp));
                        }
                    }
                }
            }
        });
    }

    /** Rows {@code (i', p)}, i' in the group, of H_jk over columns {@code (i, o)} (on the diagonal, i &lt; i' only). */
    private static void writeLower(RawAccess.Elements c, boolean diag, int a, int ok, int oj, int so, int sp, int i0, int i1, long offK, long offJ,
            Destination d) {
        int cols = ok * oj;
        IntStream.range(i0, i1).parallel().forEach(ip -> {
            int width = diag ? ip : a;
            long first = offJ + (long) ip * oj;
            if (width == 0 || !d.wants(first)) {
                return;
            }
            long rs = rowStart(diag, a, i0, ip);
            for (int p = 0; p < oj; p++) {
                long dst = d.flat(first + p, offK);            // row (i', p) is written left to right
                for (int i = 0; i < width; i++) {
                    long src = (rs + i) * cols + (long) p * sp;
                    for (int o = 0; o < ok; o++, dst++) {
                        d.put(dst, c.get(src + (long) o * so));
                    }
                }
            }
        });
    }

    /**
     * First-order term for non-adjacent layers, all inputs of layer j at once (when it is small):
     * {@code u_k^T Y} with {@code Y[s, (o, i', p)] = T[s, o, i'] g_j[s, p]}, one broadcast multiply
     * and one GEMM, returned as {@code [A, ok, in_j, oj]}.
     */
    private static double[] firstOrderWhole(LayerStates st, int k, int j, double scale, INDArray t) {
        long s = st.samples;
        long a = st.aug[k].size(1);
        long ok = t.size(1);
        long in = t.size(2);
        long oj = st.g[j].size(1);
        INDArray y = t.reshape('c', new long[] {s, ok, in, 1}).mul(st.g[j].reshape('c', new long[] {s, 1, 1, oj}))
                .reshape('c', new long[] {s, ok * in * oj});
        INDArray f = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {a, ok * in * oj}, 'c');
        Nd4j.gemm(st.aug[k], y, f, true, false, scale, 0.0);
        double[] out = RawAccess.readAll(f);
        y.close();
        f.close();
        return out;
    }

    /**
     * First-order term for non-adjacent layers and inputs {@code i0..i0+g} of layer j (all below its
     * bias input): {@code u_k^T Y} with {@code Y[s, (i', o, p)] = T[s, o, i'] g_j[s, p]} built in Java
     * ({@code t: [S, ok, in_j]}, {@code gj: [S, oj]}), one GEMM, returned as {@code [A, g, ok, oj]}.
     */
    private static double[] firstOrderGroup(LayerStates st, int k, double scale, double[] t, double[] gj, int in, int ok, int oj,
            int i0, int g, Workspace ws) {
        int s = (int) st.samples;
        int a = (int) st.aug[k].size(1);
        int width = g * ok * oj;
        double[] y = ws.kr(s * width);
        for (int x = 0; x < s; x++) {
            for (int q = 0; q < g; q++) {
                for (int o = 0; o < ok; o++) {
                    double v = t[(x * ok + o) * in + i0 + q];
                    int base = x * width + (q * ok + o) * oj;
                    for (int p = 0; p < oj; p++) {
                        y[base + p] = v * gj[x * oj + p];
                    }
                }
            }
        }
        INDArray yN = ws.factor(s, width);
        RawAccess.write(yN, 0, y, 0, s * width);
        INDArray f = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {a, width}, 'c');
        Nd4j.gemm(st.aug[k], yN, f, true, false, scale, 0.0);
        double[] out = RawAccess.readAll(f);
        f.close();
        return out;
    }

    /**
     * First-order term for {@code j = k + 1}: {@code d u_j / d z_k = [diag(s_k'), 0]}, so the term is
     * {@code delta(o, i') E[i, o, p]} with {@code E = u_k^T (s_k' (x) g_j)}, {@code [A, out_k, out_j]}.
     */
    private static INDArray adjacentFirstOrder(LayerStates st, int k, int j, double scale) {
        long s = st.samples;
        long a = st.aug[k].size(1);
        long ok = st.g[k].size(1);
        long oj = st.g[j].size(1);
        INDArray kr = st.d1[k].reshape(s, ok, 1).mul(st.g[j].reshape(s, 1, oj)).reshape('c', new long[] {s, ok * oj});
        INDArray e = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {a, ok * oj}, 'c');
        Nd4j.gemm(st.aug[k], kr, e, true, false, scale, 0.0);
        return e.reshape('c', new long[] {a, ok, oj});
    }
}
