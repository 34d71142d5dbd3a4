package dev.curvlab.nn.products;

import java.util.Arrays;

/**
 * The workspace of k directions through a batch of B samples: Pearlmutter's R-operator
 * ({@code R{q} = d q(theta + r V) / dr} at r = 0) pushed forward and back for all k columns of V at
 * once. Direction-dependent arrays are feature-major, {@code [w, k, B]}, so that each term of every
 * R-product is one GEMM whose long side is {@code k*B} or {@code k*w}: viewed as {@code [w, k*B]}
 * against a weight matrix ({@code W^T Ra}, {@code W Rdz}), or as {@code [w*k, B]} against a
 * batch-pass matrix with the k directions interleaved ({@code P_l: [out_l*k, in_l + 1]},
 * {@code Vk_l: [in_l*k, out_l]}, direction fastest).
 * (Sample-major {@code [B, k, w]} made the weight-matrix products {@code [B*k, w] x [w, w]}, which
 * OpenBLAS runs at half the speed of {@code [w, w] x [w, B*k]}: 1.0 ms against 0.5 ms for the
 * medium MLP's k = 16.)
 * <p>Per direction, with {@code D_l: [in_l + 1, out_l]} its block of {@code [W_l; b_l]} and
 * {@code V_l} the W part, on batch-pass quantities {@code [w, B]} ({@link BatchPass}):
 * <pre>
 *   R-forward:   Rz_l = D_l^T a_l + W_l^T Ra_l                Ra_{l+1} = s_l' Rz_l
 *   output:      RdA_L = factor * H_out Rf                    (H_out: the loss Hessian per sample)
 *   R-backward:  Rdz_l = RdA_l s_l' + dA_l s_l'' Rz_l
 *                R grad Wb_l = a_l Rdz_l^T + [Ra_l dz_l^T; 0]
 *                RdA_{l-1} = W_l Rdz_l + V_l dz_l
 * </pre>
 * For all k at once, row {@code o*k + j} of {@code P_l} is column o of direction j's {@code D_l}, and
 * row {@code i*k + j} of {@code Vk_l} is row i of direction j's {@code V_l}.
 * The GGN drops the three terms that carry the network's curvature ({@code s''}, {@code Ra dz^T},
 * {@code V dz}); what is left is {@code J^T H_out J V}. The empirical Fisher needs no R-pass: with
 * per-sample gradients {@code g_b = vec(a_l[:, b] dz_l[:, b]^T)} over layers, {@code (G V)[b, j] =
 * sum_l dz_l[:, b] . (D_l^T a_l)[:, b]} and {@code G^T U = sum_b a_l[:, b] (U[b, j] dz_l[:, b])^T},
 * two GEMMs per layer.
 */
final class DirectionPass implements AutoCloseable {
    private final LayerShapes shapes;
    private final Gemm gemm = new Gemm();
    final int batch;
    final int k;
    /** {@code P_l: [out*k, in+1]}: row {@code o*k + j} is column o of direction j's {@code Wb_l}. */
    private final Matrix[] p;
    /** {@code Vk_l: [in*k, out]}: row {@code i*k + j} is row i of direction j's {@code W_l}. */
    private final Matrix[] vw;
    /** {@code Rz_l}, {@code Ra_l}, {@code Rdz_l}, {@code RdA_l}: {@code [w, k*B]}, column {@code j*B + b}. */
    private final Matrix[] rz;
    private final Matrix[] ra;
    private final Matrix[] rdz;
    private final Matrix[] rdA;
    /** {@code [out, in*k]}, column {@code i*k + j}: row i of {@code Ra_l dz_l^T} for direction j, the curvature term of {@code R grad W_l}. */
    private final Matrix[] crossTerm;
    /** {@code [in+1, out*k]}, column {@code o*k + j}: column o of {@code a_l Rdz_l^T} for direction j. */
    private final Matrix[] gradTerm;
    /**
     * The same memory as {@code [w*k, B]}: made once here, because {@link Matrix#as} reshapes an
     * ND4J array (one op dispatch, several us) and the R-passes need such views every product.
     */
    private final Matrix[] raRows;
    private final Matrix[] rzRows;
    private final Matrix[] rdzRows;
    private final Matrix[] rdARows;
    /** The network output's directions, feature-major {@code [out, k, B]}. */
    private final double[] rf;
    /** The same and the loss Hessian applied to them, sample-major {@code [B, k, out]} (what {@link OutputLoss} takes). */
    private final double[] rfBySample;
    private final double[] rgBySample;
    /** {@code Rz_l} of every layer on the heap ({@code [out_l, k, B]}), read once after its GEMMs, used again backward. */
    private final double[][] rzHeap;
    /** Scratch for one layer's direction block ({@code [w, k, B]}, {@code P_l}, {@code Vk_l} or a gradient term). */
    private final double[] block;
    /** Scratch for one layer's {@code [out, in*k]} block. */
    private final double[] cross;
    /** Scratch for one layer's {@code [out, B]} batch-pass matrix. */
    private final double[] baseScratch;
    /** The empirical Fisher's {@code (G V)^T: [k, B]} (per direction j and sample b, {@code (G V)[b, j]} at {@code j*B + b}). */
    private final double[] sampleProducts;
    /**
     * This chunk's directions and products as heap rows {@code [k, N]}, kept with the workspace: a
     * fresh heap array per product costs page faults on first touch of the JVM's young generation
     * (~0.3 ms a product for k = 1 on the medium MLP).
     */
    final double[] directionRows;
    final double[] productRows;

    DirectionPass(LayerShapes shapes, int batch, int k) {
        this.shapes = shapes;
        this.batch = batch;
        this.k = k;
        int layers = shapes.layers();
        p = new Matrix[layers];
        vw = new Matrix[layers];
        rz = new Matrix[layers];
        ra = new Matrix[layers];
        rdz = new Matrix[layers];
        rdA = new Matrix[layers];
        crossTerm = new Matrix[layers];
        gradTerm = new Matrix[layers];
        raRows = new Matrix[layers];
        rzRows = new Matrix[layers];
        rdzRows = new Matrix[layers];
        rdARows = new Matrix[layers];
        rzHeap = new double[layers][];
        long blockSize = 0;
        long crossSize = 0;
        long baseSize = 0;
        for (int l = 0; l < layers; l++) {
            allocateLayer(l);
            int in = shapes.in(l);
            int out = shapes.out(l);
            blockSize = Math.max(blockSize, (long) Math.max(batch, in + 1) * k * out);
            crossSize = Math.max(crossSize, (long) k * in * out);
            baseSize = Math.max(baseSize, (long) batch * out);
        }
        rf = new double[size(batch, k, shapes.out(layers - 1))];
        rfBySample = new double[rf.length];
        rgBySample = new double[rf.length];
        block = new double[Math.toIntExact(blockSize)];
        cross = new double[Math.toIntExact(crossSize)];
        sampleProducts = new double[size(batch, k, 1)];
        baseScratch = new double[Math.toIntExact(baseSize)];
        directionRows = new double[size(k, shapes.parameters(), 1)];
        productRows = new double[directionRows.length];
    }

    private void allocateLayer(int l) {
        int in = shapes.in(l);
        int out = shapes.out(l);
        p[l] = Matrix.zeros(size(out, k, 1), in + 1);
        vw[l] = Matrix.zeros(size(in, k, 1), out);
        rz[l] = Matrix.zeros(out, size(k, batch, 1));
        ra[l] = Matrix.zeros(in, size(k, batch, 1));
        rdz[l] = Matrix.zeros(out, size(k, batch, 1));
        rdA[l] = Matrix.zeros(out, size(k, batch, 1));
        crossTerm[l] = Matrix.zeros(out, size(in, k, 1));
        gradTerm[l] = Matrix.zeros(in + 1, size(out, k, 1));
        raRows[l] = ra[l].as(in * k, batch);
        rzRows[l] = rz[l].as(out * k, batch);
        rdzRows[l] = rdz[l].as(out * k, batch);
        rdARows[l] = rdA[l].as(out * k, batch);
        rzHeap[l] = new double[size(batch, k, out)];
    }

    /** {@code a * b * c} as an array length, or an exception when it is not one. */
    private static int size(long a, long b, long c) {
        return Math.toIntExact(Math.multiplyExact(Math.multiplyExact(a, b), c));
    }

    /**
     * Doubles one direction adds to a workspace for a batch of B, exactly what the constructor
     * allocates per unit of k, for a chain of widths {@code [in_0, out_0, ..., out_{L-1}]}: per layer
     * {@code P}, {@code V}, the two gradient terms ({@code 2 (in+1) out + 2 in out}) and the
     * feature-major {@code Rz} (native and heap), {@code Ra}, {@code Rdz}, {@code RdA}
     * ({@code B (in + 4 out)}); the output's three {@code [out_L, k, B]} arrays; the scratch blocks
     * ({@code max B*out, (in+1) out}, {@code max in out}, {@code B}); the direction and product rows ({@code 2 N}).
     */
    static long doublesPerDirection(long[] widths, long batch) {
        long total = 0;
        long parameters = 0;
        long block = 0;
        long cross = 0;
        for (int l = 0; l + 1 < widths.length; l++) {
            long in = widths[l];
            long out = widths[l + 1];
            total += 2 * (in + 1) * out + 2 * in * out + batch * (in + 4 * out);
            parameters += (in + 1) * out;
            block = Math.max(block, Math.max(batch, in + 1) * out);
            cross = Math.max(cross, in * out);
        }
        return total + 3 * batch * widths[widths.length - 1] + block + cross + batch + 2 * parameters;
    }

    /** Doubles a workspace holds besides k times {@link #doublesPerDirection}: one {@code [out_l, B]} scratch for the batch pass's matrices. */
    static long fixedDoubles(long[] widths, long batch) {
        long widest = 0;
        for (int l = 1; l < widths.length; l++) {
            widest = Math.max(widest, widths[l]);
        }
        return batch * widest;
    }

    /** Doubles this workspace holds, native and heap (what {@link #doublesPerDirection} and {@link #fixedDoubles} count). */
    long allocatedDoubles() {
        long total = rf.length + rfBySample.length + rgBySample.length + block.length + cross.length + sampleProducts.length
                + baseScratch.length + directionRows.length + productRows.length;
        for (int l = 0; l < shapes.layers(); l++) {
            for (Matrix m : new Matrix[] {p[l], vw[l], rz[l], ra[l], rdz[l], rdA[l], crossTerm[l], gradTerm[l]}) {
                total += (long) m.rows * m.cols;
            }
            total += rzHeap[l].length;
        }
        return total;
    }

    /** Rows {@code v: [k, N]} (this chunk's directions) into the per-layer blocks {@code P_l: [out*k, in+1]} and {@code V_l: [in*k, out]}. */
    void loadDirections(double[] v) {
        int n = shapes.parameters();
        for (int l = 0; l < shapes.layers(); l++) {
            int in = shapes.in(l);
            int out = shapes.out(l);
            int off = shapes.offset(l);
            for (int j = 0; j < k; j++) {
                for (int i = 0; i <= in; i++) {
                    int from = j * n + off + i * out;
                    for (int o = 0; o < out; o++) {
                        block[(o * k + j) * (in + 1) + i] = v[from + o];
                    }
                }
            }
            p[l].write(block);
            for (int i = 0; i < in; i++) {
                for (int j = 0; j < k; j++) {
                    System.arraycopy(v, j * n + off + i * out, block, (i * k + j) * out, out);
                }
            }
            vw[l].write(block);
        }
    }

    /** {@code H V} (exact) or {@code G V} (Gauss-Newton) into {@code result: [k, N]}; the batch pass is forward (and for H, backward). */
    void curvatureProduct(BatchPass base, OutputLoss loss, boolean exact, double[] result) {
        int layers = shapes.layers();
        for (int l = 0; l < layers; l++) {
            gemm.product(p[l], false, base.a[l], false, rzRows[l], 0.0);
            if (l > 0) {
                gemm.product(base.w[l], true, ra[l], false, rz[l], 1.0);
            }
            rz[l].read(rzHeap[l]);
            boolean last = l + 1 == layers;
            scaleByFeature(rzHeap[l], base.d1[l].heap, shapes.out(l), last ? rf : block);
            if (!last) {
                ra[l + 1].write(block);
            }
        }
        outputCotangents(base, loss);
        for (int l = layers - 1; l >= 0; l--) {
            if (l < layers - 1) {
                rdA[l].read(block);
            }
            rdzInPlace(base, l, exact);
            rdz[l].write(block);
            gemm.product(base.a[l], false, rdzRows[l], true, gradTerm[l], 0.0);
            boolean withCross = exact && l > 0;
            if (withCross) {
                gemm.product(base.dz[l], false, raRows[l], true, crossTerm[l], 0.0);
            }
            writeBlock(l, result, withCross);
            if (l > 0) {
                gemm.product(base.w[l], false, rdz[l], false, rdA[l - 1], 0.0);
                if (exact) {
                    gemm.product(vw[l], false, base.dz[l], false, rdARows[l - 1], 1.0);
                }
            }
        }
    }

    /** {@code RdA_L = factor * H_out Rf} into {@link #block} (feature-major), through the loss's sample-major kernel. */
    private void outputCotangents(BatchPass base, OutputLoss loss) {
        int outs = shapes.out(shapes.layers() - 1);
        permuteOutputs(rf, rfBySample, outs, true, 1.0);
        loss.hessianProduct(base.f, base.y, batch, outs, k, rfBySample, rgBySample);
        permuteOutputs(rgBySample, block, outs, false, base.lossFactor());
    }

    /** {@code [outs, k, B]} to {@code [B, k, outs]} ({@code toSampleMajor}) or back, times {@code factor}. */
    private void permuteOutputs(double[] from, double[] to, int outs, boolean toSampleMajor, double factor) {
        for (int o = 0; o < outs; o++) {
            for (int j = 0; j < k; j++) {
                int at = (o * k + j) * batch;
                for (int b = 0; b < batch; b++) {
                    int bySample = (b * k + j) * outs + o;
                    if (toSampleMajor) {
                        to[bySample] = factor * from[at + b];
                    } else {
                        to[at + b] = factor * from[bySample];
                    }
                }
            }
        }
    }

    /** {@code Rdz_l = RdA_l s_l' (+ dA_l s_l'' Rz_l when exact)}, in place on {@link #block} (which holds {@code RdA_l}). */
    private void rdzInPlace(BatchPass base, int l, boolean exact) {
        int out = shapes.out(l);
        double[] s1 = base.d1[l].heap;
        if (!exact) {
            scaleByFeature(block, s1, out, block);
            return;
        }
        double[] s2 = base.d2[l].heap;
        double[] dA = baseScratch;
        base.dA[l].read(dA);
        double[] rzl = rzHeap[l];
        for (int o = 0; o < out; o++) {
            int bo = o * batch;
            for (int j = 0; j < k; j++) {
                int at = (o * k + j) * batch;
                for (int b = 0; b < batch; b++) {
                    block[at + b] = block[at + b] * s1[bo + b] + dA[bo + b] * s2[bo + b] * rzl[at + b];
                }
            }
        }
    }

    /** {@code G^T G V} for per-sample gradients G (from columns of the batch pass's dz and a) into {@code result: [k, N]}. */
    void empiricalFisherProduct(BatchPass base, double[] result) {
        int layers = shapes.layers();
        double[] u = sampleProducts;
        Arrays.fill(u, 0.0);
        for (int l = 0; l < layers; l++) {
            int out = shapes.out(l);
            gemm.product(p[l], false, base.a[l], false, rzRows[l], 0.0);
            rz[l].read(block);
            double[] dz = baseScratch;
            base.dz[l].read(dz);
            for (int o = 0; o < out; o++) {
                for (int j = 0; j < k; j++) {
                    int at = (o * k + j) * batch;
                    for (int b = 0; b < batch; b++) {
                        u[j * batch + b] += dz[o * batch + b] * block[at + b];
                    }
                }
            }
        }
        for (int l = 0; l < layers; l++) {
            int out = shapes.out(l);
            double[] dz = baseScratch;
            base.dz[l].read(dz);
            for (int o = 0; o < out; o++) {
                for (int j = 0; j < k; j++) {
                    int at = (o * k + j) * batch;
                    for (int b = 0; b < batch; b++) {
                        block[at + b] = u[j * batch + b] * dz[o * batch + b];
                    }
                }
            }
            rdz[l].write(block);
            gemm.product(base.a[l], false, rdzRows[l], true, gradTerm[l], 0.0);
            writeBlock(l, result, false);
        }
    }

    /** {@code target[o, j, b] = s[o, b] * source[o, j, b]} (source and target may be the same array). */
    private void scaleByFeature(double[] source, double[] s, int out, double[] target) {
        for (int o = 0; o < out; o++) {
            int bo = o * batch;
            for (int j = 0; j < k; j++) {
                int at = (o * k + j) * batch;
                for (int b = 0; b < batch; b++) {
                    target[at + b] = s[bo + b] * source[at + b];
                }
            }
        }
    }

    /**
     * Layer l's block of {@code result: [k, N]}: {@link #gradTerm} (as [in+1, out, k]) plus, with
     * {@code withCross}, {@link #crossTerm} (as [out, in, k]) on the W rows; a direction's row at a time,
     * so the inner loops run over the whole block (k = 1 is a plain copy).
     */
    private void writeBlock(int l, double[] result, boolean withCross) {
        int in = shapes.in(l);
        int out = shapes.out(l);
        int n = shapes.parameters();
        int size = (in + 1) * out;
        gradTerm[l].read(block);
        for (int j = 0; j < k; j++) {
            int row = j * n + shapes.offset(l);
            for (int m = 0; m < size; m++) {
                result[row + m] = block[m * k + j];
            }
        }
        if (!withCross) {
            return;
        }
        crossTerm[l].read(cross);
        for (int j = 0; j < k; j++) {
            for (int i = 0; i < in; i++) {
                int to = j * n + shapes.offset(l) + i * out;
                int from = i * k + j;
                for (int o = 0; o < out; o++) {
                    result[to + o] += cross[o * in * k + from];
                }
            }
        }
    }

    @Override
    public void close() {
        for (Matrix[] ms : new Matrix[][] {p, vw, rz, ra, rdz, rdA, crossTerm, gradTerm}) {
            for (Matrix m : ms) {
                m.close();
            }
        }
    }
}
