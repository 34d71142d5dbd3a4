package dev.curvlab.curvature.hessian;

import dev.curvlab.core.kernels.RawAccess;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Writes one layer-pair block {@code H_kj} (k &lt;= j) of the structured Hessian (formula in
 * {@link StructuredHessian}) straight into its final place in a row-major destination.
 *
 * <p>The block is produced one output unit o of layer k at a time. For fixed o, both terms are
 * GEMMs over the samples whose result {@code C_o: [A_k, B_j out_j]} has exactly the layout of the
 * destination rows {@code (i, o)}, {@code i = 0..A_k-1} (every {@code out_k}-th row of the block),
 * columns {@code (i', p)}:
 * <pre>
 *   C_o = (u_k (x) u_j)^T R[:, o, :]          as [A_k B_j, out_j]  (second-order term)
 *       + u_k^T (T[:, o, :] (x) g_j)           as [A_k, B_j out_j]  (first-order term, k &lt; j)
 * </pre>
 * so each o costs one or two GEMMs and one row-strided 2-D copy with contiguous rows; no
 * permutation and no block-sized temporary. For adjacent layers {@code T[:, o, i'] = delta(o, i')
 * s_k'[:, o]}, and the first-order term of all o is a single small GEMM.
 */
final class KroneckerBlocks {
    private KroneckerBlocks() {
    }

    /** A row-major destination and the offsets of the block's top-left corner in it. */
    record Target(INDArray dest, long row0, long col0) {
    }

    /** Scratch space reused across blocks: a native GEMM result buffer and Java staging arrays. */
    static final class Workspace {
        static final long BUFFER_DOUBLES = 4L << 20;   // 32 MB
        private INDArray buffer;
        private double[] staged = new double[0];
        private double[] previous = new double[0];
        private double[] row = new double[0];

        /** A C-order {@code [rows, cols]} array over the start of the shared native buffer. */
        INDArray matrix(long rows, long cols) {
            long need = rows * cols;
            if (buffer == null || buffer.length() < need) {
                buffer = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {Math.max(need, BUFFER_DOUBLES)}, 'c');
            }
            return Nd4j.create(buffer.data(), new long[] {rows, cols}, new long[] {cols, 1}, 0, 'c');
        }

        /** The first {@code n} entries of the native buffer, copied into a reused Java array. */
        double[] stage(long n) {
            if (staged.length < n) {
                staged = new double[(int) n];
            }
            RawAccess.read(buffer, 0, staged, 0, (int) n);
            return staged;
        }

        /** A reused Java buffer for the destination's current row (accumulating over batches). */
        double[] previousRow(long n) {
            if (previous.length < n) {
                previous = new double[(int) n];
            }
            return previous;
        }

        double[] row(long n) {
            if (row.length < n) {
                row = new double[(int) n];
            }
            return row;
        }
    }

    /** Adds (or, when {@code assign}, writes) {@code scale * H_kj} of one batch at {@code target}. */
    static void add(LayerStates st, int k, int j, boolean ggn, double scale, Target target, boolean assign, Workspace ws) {
        long s = st.samples;
        int a = (int) st.aug[k].size(1);
        int ok = (int) st.g[k].size(1);
        int b = (int) st.aug[j].size(1);
        int oj = (int) st.g[j].size(1);
        INDArray r = k == j ? st.m[k] : Nd4j.matmul(st.s(k, j), st.m[j]);                         // R_kj [S, ok, oj]
        INDArray rFlat = r.reshape('c', new long[] {s, (long) ok * oj});
        // Two GEMM layouts with the same flops: "left" (u_k (x) u_j)^T [A*B, S] times R [S, g*oj] suits wide layers;
        // "right" u_k^T [A, S] times Z [S, g*B*oj], Z = u_j (x) R, suits thin ones (ok*oj small) and many samples.
        boolean right = (long) ok * oj < 64 || s * (long) a * b > (64L << 20);
        INDArray krT = right ? null
                : st.aug[k].transpose().reshape(a, 1, s).mul(st.aug[j].transpose().reshape(1, b, s)).reshape('c', new long[] {(long) a * b, s});
        boolean firstOrder = k < j && !ggn;
        boolean adjacent = j == k + 1;
        INDArray t = firstOrder && !adjacent ? st.augJacobian(k, j) : null;                        // [S, ok, B]
        double[] e = firstOrder && adjacent ? RawAccess.readAll(adjacentFirstOrder(st, k, j, scale)) : null;   // [A, ok, oj]
        long perO = Math.max((long) a * b * oj, right ? s * b * oj : 0);
        int group = (int) Math.max(1, Math.min(ok, Workspace.BUFFER_DOUBLES / perO));
        INDArray dest = target.dest();
        long n = dest.size(1);
        int width = b * oj;
        double[] row = ws.row(width);
        for (int o0 = 0; o0 < ok; o0 += group) {
            int g = Math.min(group, ok - o0);
            double[] t1 = t == null ? null : firstOrderGroup(st, k, j, scale, t, o0, g, ws);       // [g, A, B*oj]
            INDArray rg = rFlat.get(NDArrayIndex.all(), NDArrayIndex.interval((long) o0 * oj, (long) (o0 + g) * oj));
            if (right) {
                INDArray z = st.aug[j].reshape(s, 1, b, 1).mul(rg.reshape(s, g, 1, oj)).reshape('c', new long[] {s, (long) g * width});
                Nd4j.gemm(st.aug[k], z, ws.matrix(a, (long) g * width), true, false, scale, 0.0);   // C[i, (o, i', p)]
                z.close();
            } else {
                Nd4j.gemm(krT, rg, ws.matrix((long) a * b, (long) g * oj), false, false, scale, 0.0);   // C[(i,i'), (o,p)]
            }
            double[] c = ws.stage((long) a * b * g * oj);
            for (int i = 0; i < a; i++) {
                for (int q = 0; q < g; q++) {
                    int o = o0 + q;
                    if (right) {
                        System.arraycopy(c, (i * g + q) * width, row, 0, width);
                    } else {
                        for (int ip = 0; ip < b; ip++) {
                            System.arraycopy(c, ((i * b + ip) * g + q) * oj, row, ip * oj, oj);
                        }
                    }
                    if (t1 != null) {
                        int base = (i * g + q) * width;
                        for (int x = 0; x < width; x++) {
                            row[x] += t1[base + x];
                        }
                    }
                    if (e != null) {
                        int base = (i * ok + o) * oj;
                        for (int p = 0; p < oj; p++) {
                            row[o * oj + p] += e[base + p];
                        }
                    }
                    long flat = (target.row0() + (long) i * ok + o) * n + target.col0();
                    if (!assign) {
                        double[] old = ws.previousRow(width);
                        RawAccess.read(dest, flat, old, 0, width);
                        for (int x = 0; x < width; x++) {
                            row[x] += old[x];
                        }
                    }
                    RawAccess.write(dest, flat, row, 0, width);
                }
            }
        }
    }

    /**
     * First-order term for non-adjacent layers and output units {@code o0..o0+g}:
     * {@code u_k^T Y} with {@code Y[s, (o, i', p)] = T[s, o, i'] g_j[s, p]}, one GEMM for the group;
     * returned as one Java array {@code [A, g, B oj]} (rows (i, o) in the destination's layout).
     */
    private static double[] firstOrderGroup(LayerStates st, int k, int j, double scale, INDArray t, int o0, int g, Workspace ws) {
        long s = st.samples;
        long a = st.aug[k].size(1);
        long b = st.aug[j].size(1);
        long oj = st.g[j].size(1);
        INDArray tg = t.get(NDArrayIndex.all(), NDArrayIndex.interval(o0, o0 + g), NDArrayIndex.all());            // [S, g, B]
        INDArray y = tg.reshape(s, g, b, 1).mul(st.g[j].reshape(s, 1, 1, oj)).reshape('c', new long[] {s, g * b * oj});
        INDArray c = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {a, g * b * oj}, 'c');
        Nd4j.gemm(st.aug[k], y, c, true, false, scale, 0.0);
        double[] out = RawAccess.readAll(c);
        y.close();
        c.close();
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

    /** Copies the block at {@code (r0, c0)} of size {@code [rows, cols]} transposed to {@code (c0, r0)} in the same matrix, tile by tile. */
    static void mirror(INDArray h, long r0, long rows, long c0, long cols) {
        long n = h.size(1);
        int t = 256;
        double[] tile = new double[t * t];
        double[] out = new double[t];
        for (long i = 0; i < rows; i += t) {
            int ti = (int) Math.min(t, rows - i);
            for (long j = 0; j < cols; j += t) {
                int tj = (int) Math.min(t, cols - j);
                for (int r = 0; r < ti; r++) {
                    RawAccess.read(h, (r0 + i + r) * n + c0 + j, tile, r * tj, tj);
                }
                for (int c = 0; c < tj; c++) {
                    for (int r = 0; r < ti; r++) {
                        out[r] = tile[r * tj + c];
                    }
                    RawAccess.write(h, (c0 + j + c) * n + r0 + i, out, 0, ti);
                }
            }
        }
    }
}
