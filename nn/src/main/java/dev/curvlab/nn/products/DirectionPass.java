package dev.curvlab.nn.products;

/**
 * The workspace of k directions through a batch of B samples: Pearlmutter's R-operator
 * ({@code R{q} = d q(theta + r V) / dr} at r = 0) pushed forward and back for all k columns of V at
 * once. Direction-dependent arrays are sample-major, {@code [B, k, w]}, so both terms of every
 * R-product are single GEMMs: viewed as {@code [B*k, w]} against a weight matrix, or as
 * {@code [B, k*w]} against the k directions side by side ({@code P_l: [in_l + 1, k*out_l]}).
 * <pre>
 *   R-forward:   Rz_l = a_l P_l + Ra_l W_l                    Ra_{l+1} = s_l' Rz_l
 *   output:      RdA_L = factor * H_out Rf                    (H_out: the loss Hessian per sample)
 *   R-backward:  Rdz_l = RdA_l s_l' + dA_l s_l'' Rz_l
 *                R grad Wb_l = a_l^T Rdz_l + [Ra_l^T dz_l; 0]
 *                RdA_{l-1} = Rdz_l W_l^T + dz_l V_l^T
 * </pre>
 * The GGN drops the three terms that carry the network's curvature ({@code s''}, {@code Ra^T dz},
 * {@code dz V^T}); what is left is {@code J^T H_out J V}. The empirical Fisher needs no R-pass:
 * with per-sample gradients {@code g_i = vec(a_i dz_i^T)} over layers, {@code (G V)[i, j] = sum_l
 * dz_l[i] . (a_l P_l)[i, j]} and {@code G^T U = sum_i a_i^T (U[i, j] dz_i)}, two GEMMs per layer.
 */
final class DirectionPass implements AutoCloseable {
    private final LayerShapes shapes;
    private final Gemm gemm = new Gemm();
    final int batch;
    final int k;
    private final Matrix[] p;
    private final Matrix[] vw;
    private final Matrix[] rz;
    private final Matrix[] ra;
    private final Matrix[] rdz;
    private final Matrix[] rdA;
    private final Matrix[] t1;
    private final Matrix[] t2;
    /**
     * Sample-direction-major views of the same memory, {@code [B*k, w]}: made once here, because
     * {@link Matrix#as} reshapes an ND4J array (one op dispatch, several us) and the R-passes need
     * four such views per layer per product.
     */
    private final Matrix[] raRows;
    private final Matrix[] rzRows;
    private final Matrix[] rdzRows;
    private final Matrix[] rdARows;
    private final double[] rf;
    private final double[] rg;
    /** {@code Rz_l} of every layer on the heap ({@code [B, k, out_l]}), read once after its GEMMs, used again backward. */
    private final double[][] rzHeap;
    /** Scratch for one layer's direction block ({@code [B, k, out]} or {@code [in + 1, k, out]}). */
    private final double[] block;
    /** Scratch for one layer's {@code [k, in, out]} block. */
    private final double[] cross;
    /** Scratch for one layer's {@code [B, out]} batch-pass matrix. */
    private final double[] rowsOfBase;
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
        t1 = new Matrix[layers];
        t2 = new Matrix[layers];
        raRows = new Matrix[layers];
        rzRows = new Matrix[layers];
        rdzRows = new Matrix[layers];
        rdARows = new Matrix[layers];
        rzHeap = new double[layers][];
        int blockSize = 0;
        int crossSize = 0;
        int baseSize = 0;
        for (int l = 0; l < layers; l++) {
            int in = shapes.in(l);
            int out = shapes.out(l);
            p[l] = Matrix.zeros(in + 1, k * out);
            vw[l] = Matrix.zeros(k * in, out);
            rz[l] = Matrix.zeros(batch, k * out);
            ra[l] = Matrix.zeros(batch, k * in);
            rdz[l] = Matrix.zeros(batch, k * out);
            rdA[l] = Matrix.zeros(batch, k * out);
            t1[l] = Matrix.zeros(k * in, out);
            t2[l] = Matrix.zeros(in + 1, k * out);
            raRows[l] = ra[l].as(batch * k, in);
            rzRows[l] = rz[l].as(batch * k, out);
            rdzRows[l] = rdz[l].as(batch * k, out);
            rdARows[l] = rdA[l].as(batch * k, out);
            rzHeap[l] = new double[batch * k * out];
            blockSize = Math.max(blockSize, Math.max(batch, in + 1) * k * out);
            crossSize = Math.max(crossSize, k * in * out);
            baseSize = Math.max(baseSize, batch * out);
        }
        int outs = shapes.out(layers - 1);
        rf = new double[batch * k * outs];
        rg = new double[batch * k * outs];
        block = new double[blockSize];
        cross = new double[crossSize];
        rowsOfBase = new double[baseSize];
        directionRows = new double[Math.multiplyExact(k, shapes.parameters())];
        productRows = new double[directionRows.length];
    }

    /** Rows {@code v: [k, N]} (this chunk's directions) into the per-layer blocks {@code P_l: [in+1, k, out]} and {@code V_l: [k, in, out]}. */
    void loadDirections(double[] v) {
        int n = shapes.parameters();
        for (int l = 0; l < shapes.layers(); l++) {
            int in = shapes.in(l);
            int out = shapes.out(l);
            int off = shapes.offset(l);
            for (int i = 0; i <= in; i++) {
                for (int j = 0; j < k; j++) {
                    System.arraycopy(v, j * n + off + i * out, block, (i * k + j) * out, out);
                }
            }
            p[l].write(block);
            for (int j = 0; j < k; j++) {
                System.arraycopy(v, j * n + off, block, j * in * out, in * out);
            }
            vw[l].write(block);
        }
    }

    /** {@code H V} (exact) or {@code G V} (Gauss-Newton) into {@code result: [k, N]}; the batch pass is forward (and for H, backward). */
    void curvatureProduct(BatchPass base, OutputLoss loss, boolean exact, double[] result) {
        int layers = shapes.layers();
        for (int l = 0; l < layers; l++) {
            int in = shapes.in(l);
            int out = shapes.out(l);
            gemm.product(base.a[l], false, p[l], false, rz[l], 0.0);
            if (l > 0) {
                gemm.product(raRows[l], false, base.w[l], false, rzRows[l], 1.0);
            }
            rz[l].read(rzHeap[l]);
            boolean last = l + 1 == layers;
            scaleByRows(rzHeap[l], base.d1[l].heap, out, last ? rf : block);
            if (!last) {
                ra[l + 1].write(block);
            }
        }
        int outs = shapes.out(layers - 1);
        loss.hessianProduct(base.f, base.y, batch, outs, k, rf, rg);
        double factor = base.lossFactor();
        for (int l = layers - 1; l >= 0; l--) {
            int in = shapes.in(l);
            int out = shapes.out(l);
            if (l == layers - 1) {
                for (int i = 0; i < rg.length; i++) {
                    block[i] = factor * rg[i];
                }
            } else {
                rdA[l].read(block);
            }
            rdzInPlace(base, l, exact);
            rdz[l].write(block);
            gemm.product(base.a[l], true, rdz[l], false, t2[l], 0.0);
            boolean withCross = exact && l > 0;
            if (withCross) {
                gemm.product(ra[l], true, base.dz[l], false, t1[l], 0.0);
            }
            writeBlock(l, result, withCross);
            if (l > 0) {
                gemm.product(rdzRows[l], false, base.w[l], true, rdARows[l - 1], 0.0);
                if (exact) {
                    gemm.product(base.dz[l], false, vw[l], true, rdA[l - 1], 1.0);
                }
            }
        }
    }

    /** {@code Rdz_l = RdA_l s_l' (+ dA_l s_l'' Rz_l when exact)}, in place on {@link #block} (which holds {@code RdA_l}). */
    private void rdzInPlace(BatchPass base, int l, boolean exact) {
        int out = shapes.out(l);
        double[] s1 = base.d1[l].heap;
        double[] s2 = base.d2[l].heap;
        double[] rzl = rzHeap[l];
        if (exact) {
            base.dA[l].read(rowsOfBase);
        }
        for (int b = 0; b < batch; b++) {
            int bo = b * out;
            for (int j = 0; j < k; j++) {
                int at = (b * k + j) * out;
                if (exact) {
                    for (int o = 0; o < out; o++) {
                        block[at + o] = block[at + o] * s1[bo + o] + rowsOfBase[bo + o] * s2[bo + o] * rzl[at + o];
                    }
                } else {
                    for (int o = 0; o < out; o++) {
                        block[at + o] *= s1[bo + o];
                    }
                }
            }
        }
    }

    /** {@code G^T G V} for per-sample gradients G (rows of the batch pass's dz and a) into {@code result: [k, N]}. */
    void empiricalFisherProduct(BatchPass base, double[] result) {
        int layers = shapes.layers();
        double[] u = new double[batch * k];
        for (int l = 0; l < layers; l++) {
            int out = shapes.out(l);
            gemm.product(base.a[l], false, p[l], false, rz[l], 0.0);
            rz[l].read(block);
            base.dz[l].read(rowsOfBase);
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < k; j++) {
                    double s = 0;
                    for (int o = 0; o < out; o++) {
                        s += rowsOfBase[b * out + o] * block[(b * k + j) * out + o];
                    }
                    u[b * k + j] += s;
                }
            }
        }
        for (int l = 0; l < layers; l++) {
            int out = shapes.out(l);
            base.dz[l].read(rowsOfBase);
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < k; j++) {
                    double c = u[b * k + j];
                    for (int o = 0; o < out; o++) {
                        block[(b * k + j) * out + o] = c * rowsOfBase[b * out + o];
                    }
                }
            }
            rdz[l].write(block);
            gemm.product(base.a[l], true, rdz[l], false, t2[l], 0.0);
            writeBlock(l, result, false);
        }
    }

    /** {@code target[b, j, o] = s'[b, o] * rz[b, j, o]}. */
    private void scaleByRows(double[] rzl, double[] s1, int out, double[] target) {
        for (int b = 0; b < batch; b++) {
            int bo = b * out;
            for (int j = 0; j < k; j++) {
                int at = (b * k + j) * out;
                for (int o = 0; o < out; o++) {
                    target[at + o] = s1[bo + o] * rzl[at + o];
                }
            }
        }
    }

    /** Layer l's block of {@code result: [k, N]}: {@code t2} (as [in+1, k, out]) plus, with {@code withCross}, {@code t1} (as [k, in, out]) on the W rows. */
    private void writeBlock(int l, double[] result, boolean withCross) {
        int in = shapes.in(l);
        int out = shapes.out(l);
        int n = shapes.parameters();
        int off = shapes.offset(l);
        t2[l].read(block);
        if (withCross) {
            t1[l].read(cross);
        }
        for (int j = 0; j < k; j++) {
            int row = j * n + off;
            for (int i = 0; i <= in; i++) {
                System.arraycopy(block, (i * k + j) * out, result, row + i * out, out);
                if (withCross && i < in) {
                    int c = (j * in + i) * out;
                    for (int o = 0; o < out; o++) {
                        result[row + i * out + o] += cross[c + o];
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        for (Matrix[] ms : new Matrix[][] {p, vw, rz, ra, rdz, rdA, t1, t2}) {
            for (Matrix m : ms) {
                m.close();
            }
        }
    }
}
