package dev.curvlab.nn.products;

import dev.curvlab.core.kernels.RawAccess;

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
    private final double[] rf;
    private final double[] rg;

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
        }
        int outs = shapes.out(layers - 1);
        rf = new double[batch * k * outs];
        rg = new double[batch * k * outs];
    }

    /** Rows {@code j0 .. j0+k} of {@code vt: [*, N]} into the per-layer direction blocks. */
    void loadDirections(RawAccess.Elements vt, int j0) {
        int n = shapes.parameters();
        for (int l = 0; l < shapes.layers(); l++) {
            int in = shapes.in(l);
            int out = shapes.out(l);
            int off = shapes.offset(l);
            for (int j = 0; j < k; j++) {
                long row = (long) (j0 + j) * n + off;
                for (int i = 0; i <= in; i++) {
                    for (int o = 0; o < out; o++) {
                        double v = vt.get(row + (long) i * out + o);
                        p[l].set(i * k * out + j * out + o, v);
                        if (i < in) {
                            vw[l].set((j * in + i) * out + o, v);
                        }
                    }
                }
            }
        }
    }

    /** {@code H V} (exact) or {@code G V} (Gauss-Newton) into rows {@code j0..} of {@code result: [*, N]}; the batch pass is forward (and for H, backward). */
    void curvatureProduct(BatchPass base, OutputLoss loss, boolean exact, RawAccess.Elements result, int j0) {
        int layers = shapes.layers();
        for (int l = 0; l < layers; l++) {
            int in = shapes.in(l);
            int out = shapes.out(l);
            gemm.product(base.a[l], false, p[l], false, rz[l], 0.0);
            if (l > 0) {
                gemm.product(ra[l].as(batch * k, in), false, base.w[l], false, rz[l].as(batch * k, out), 1.0);
            }
            scaleByRows(rz[l], base.d1[l], out, l + 1 < layers ? ra[l + 1] : null, rf);
        }
        int outs = shapes.out(layers - 1);
        loss.hessianProduct(base.f, base.y, batch, outs, k, rf, rg);
        double factor = base.lossFactor();
        for (int l = layers - 1; l >= 0; l--) {
            int in = shapes.in(l);
            int out = shapes.out(l);
            Matrix s1 = base.d1[l];
            Matrix s2 = base.d2[l];
            Matrix da = base.dA[l];
            for (int b = 0; b < batch; b++) {
                for (int o = 0; o < out; o++) {
                    int bo = b * out + o;
                    double d = s1.get(bo);
                    double c = exact ? da.get(bo) * s2.get(bo) : 0;
                    for (int j = 0; j < k; j++) {
                        int at = (b * k + j) * out + o;
                        double up = l == layers - 1 ? factor * rg[at] : rdA[l].get(at);
                        rdz[l].set(at, up * d + (exact ? c * rz[l].get(at) : 0));
                    }
                }
            }
            gemm.product(base.a[l], true, rdz[l], false, t2[l], 0.0);
            boolean cross = exact && l > 0;
            if (cross) {
                gemm.product(ra[l], true, base.dz[l], false, t1[l], 0.0);
            }
            writeBlock(l, result, j0, cross);
            if (l > 0) {
                gemm.product(rdz[l].as(batch * k, out), false, base.w[l], true, rdA[l - 1].as(batch * k, in), 0.0);
                if (exact) {
                    gemm.product(base.dz[l], false, vw[l], true, rdA[l - 1], 1.0);
                }
            }
        }
    }

    /** {@code G^T G V} for per-sample gradients G (rows of the batch pass's dz and a). */
    void empiricalFisherProduct(BatchPass base, RawAccess.Elements result, int j0) {
        int layers = shapes.layers();
        double[] u = new double[batch * k];
        for (int l = 0; l < layers; l++) {
            int out = shapes.out(l);
            gemm.product(base.a[l], false, p[l], false, rz[l], 0.0);
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < k; j++) {
                    double s = 0;
                    for (int o = 0; o < out; o++) {
                        s += base.dz[l].get(b * out + o) * rz[l].get((b * k + j) * out + o);
                    }
                    u[b * k + j] += s;
                }
            }
        }
        for (int l = 0; l < layers; l++) {
            int out = shapes.out(l);
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < k; j++) {
                    double c = u[b * k + j];
                    for (int o = 0; o < out; o++) {
                        rdz[l].set((b * k + j) * out + o, c * base.dz[l].get(b * out + o));
                    }
                }
            }
            gemm.product(base.a[l], true, rdz[l], false, t2[l], 0.0);
            writeBlock(l, result, j0, false);
        }
    }

    /** {@code target[b, j, o] = s'[b, o] * rz[b, j, o]} into a matrix, or (last layer) into {@code last}. */
    private void scaleByRows(Matrix rzl, Matrix s1, int out, Matrix target, double[] last) {
        for (int b = 0; b < batch; b++) {
            for (int o = 0; o < out; o++) {
                double d = s1.get(b * out + o);
                for (int j = 0; j < k; j++) {
                    int at = (b * k + j) * out + o;
                    double v = d * rzl.get(at);
                    if (target != null) {
                        target.set(at, v);
                    } else {
                        last[at] = v;
                    }
                }
            }
        }
    }

    /** Layer l's block of result rows {@code j0..j0+k}: {@code t2} (as [in+1, k, out]) plus, with {@code cross}, {@code t1} (as [k, in, out]) on the W rows. */
    private void writeBlock(int l, RawAccess.Elements result, int j0, boolean cross) {
        int in = shapes.in(l);
        int out = shapes.out(l);
        int n = shapes.parameters();
        int off = shapes.offset(l);
        for (int j = 0; j < k; j++) {
            long row = (long) (j0 + j) * n + off;
            for (int i = 0; i <= in; i++) {
                for (int o = 0; o < out; o++) {
                    double v = t2[l].get(i * k * out + j * out + o);
                    if (cross && i < in) {
                        v += t1[l].get((j * in + i) * out + o);
                    }
                    result.set(row + (long) i * out + o, v);
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
