package dev.curvlab.curvature.hessian;

import dev.curvlab.core.ArrayScope;
import dev.curvlab.core.Rowwise;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.kernels.MatMulKernel;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.OutputDerivatives;
import dev.curvlab.nn.model.Dense;
import dev.curvlab.nn.model.ParamLayout;
import dev.curvlab.nn.model.Sequential;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Per-sample quantities of one batch that {@link StructuredHessian} assembles blocks from (S samples,
 * layer k with {@code in_k} inputs and {@code out_k} outputs, {@code A_k = in_k + 1}):
 * <ul>
 * <li>{@code aug[k]: [S, A_k]}: the augmented input {@code [a_k, 1]} of layer k;</li>
 * <li>{@code d1[k], d2[k]: [S, out_k]}: {@code s_k'(z_k)}, {@code s_k''(z_k)};</li>
 * <li>{@code g[k]: [S, out_k]}: {@code d loss / d z_k};</li>
 * <li>{@code m[k]: [S, out_k, out_k]}: {@code d2 loss / d z_k2} (without the activation-curvature
 *     term when building the GGN), from the loss's closed-form output derivatives (or, for a loss
 *     without them, the engine's per-sample Hessian of its perSample);</li>
 * <li>{@code s(k, j): [S, out_k, out_j]}: {@code d z_j / d z_k} for k &lt; j.</li>
 * </ul>
 * Computed with a handful of batched GEMMs per layer; nothing loops over samples.
 */
final class LayerStates implements AutoCloseable {
    final int layers;
    final long samples;
    final INDArray[] aug;
    final INDArray[] d1;
    final INDArray[] g;
    final INDArray[] m;
    private final INDArray[] w;
    private final INDArray[] mw;
    private final INDArray[][] s;

    /**
     * States of the summed loss {@code sum_s loss(f(x_s), y_s)} (the operator's scale is applied when
     * blocks are written).
     *
     * @param ggn drop the activation-curvature terms (generalized Gauss-Newton)
     */
    LayerStates(Sequential model, Loss loss, Tensor x, Tensor y, INDArray theta, boolean ggn) {
        List<Dense> ls = model.layers();
        layers = ls.size();
        samples = x.size(0);
        aug = new INDArray[layers];
        d1 = new INDArray[layers];
        INDArray[] d2 = new INDArray[layers];
        g = new INDArray[layers];
        m = new INDArray[layers];
        w = new INDArray[layers];
        mw = new INDArray[layers];
        s = new INDArray[layers][layers];
        INDArray a = x.array();
        for (int k = 0; k < layers; k++) {
            Dense d = ls.get(k);
            ParamLayout.Block wb = model.weightBlock(k);
            ParamLayout.Block bb = model.biasBlock(k);
            w[k] = theta.get(NDArrayIndex.interval(wb.offset(), wb.end())).reshape('c', new long[] {d.in(), d.out()}).dup('c');
            INDArray bias = theta.get(NDArrayIndex.interval(bb.offset(), bb.end())).reshape('c', new long[] {d.out()});
            INDArray ones = Nd4j.ones(DataType.DOUBLE, samples, 1);
            aug[k] = Nd4j.hstack(a, ones);
            ones.close();
            INDArray z = MatMulKernel.gemm(a, w[k], false, false).addiRowVector(bias);
            // each in a scope: the engine's intermediates are freed at once, not when the collector finds them
            d1[k] = ArrayScope.run(() -> Tensor.of(d.activation().derivative(z))).array();
            d2[k] = ggn ? null : ArrayScope.run(() -> Tensor.of(d.activation().secondDerivative(z))).array();
            INDArray next = ArrayScope.run(() -> d.activation().apply(Tensor.of(z))).array();
            free(z, next);
            if (k > 0) {
                free(a, next);                              // the previous activation (aug[k] holds a copy); never the input x
            }
            a = next;
        }
        // loss derivatives in the network output a_L, per sample
        Tensor out = Tensor.of(a);
        OutputDerivatives closed = loss.outputDerivatives(a, y.array());
        INDArray gA = closed != null ? closed.gradient()
                : Rowwise.grad(f -> loss.perSample(f, y)).apply(out).array();
        INDArray mA = closed != null ? closed.hessian()
                : Rowwise.hessian(f -> loss.perSample(f, y)).apply(out).array();
        if (layers > 1) {
            free(a, gA);
        }
        for (int k = layers - 1; k >= 0; k--) {
            long dk = ls.get(k).out();
            g[k] = gA.mul(d1[k]);
            INDArray mk = mA.mul(d1[k].reshape(samples, dk, 1)).muli(d1[k].reshape(samples, 1, dk));
            if (!ggn) {
                // + diag(g_{k+1} W^T . s_k''): add to the strided diagonal view of every sample's matrix
                INDArray curvatureTerm = gA.mul(d2[k]);
                Nd4j.create(mk.data(), new long[] {samples, dk}, new long[] {dk * dk, dk + 1}, 0, 'c').addi(curvatureTerm);
                curvatureTerm.close();
            }
            m[k] = mk;
            free(d2[k], mk);
            free(gA, mk);
            free(mA, mk);
            if (k > 0) {
                long din = ls.get(k).in();
                gA = MatMulKernel.gemm(g[k], w[k], false, true);
                // W M W^T per sample: X = M W^T as [S*out, in]; then (X_s^T W^T) = W M_s W^T since M_s is symmetric
                mw[k] = MatMulKernel.gemm(mk.reshape('c', new long[] {samples * dk, dk}), w[k], false, true)
                        .reshape('c', new long[] {samples, dk, din});
                INDArray xt = mw[k].permute(0, 2, 1).dup('c');
                mA = MatMulKernel.gemm(xt.reshape('c', new long[] {samples * din, dk}), w[k], false, true)
                        .reshape('c', new long[] {samples, din, din});
                xt.close();
            }
        }
    }

    /** Frees {@code a}'s native memory now (not when the collector gets to it), unless it shares {@code keep}'s buffer or is null. */
    static void free(INDArray a, INDArray keep) {
        if (a != null && !a.wasClosed() && (keep == null || base(a) != base(keep))) {
            a.close();
        }
    }

    private static org.nd4j.linalg.api.buffer.DataBuffer base(INDArray a) {
        var d = a.data();
        return d.originalDataBuffer() != null ? d.originalDataBuffer() : d;
    }

    /** Frees every per-sample array now: a chunk's states are dropped before the next chunk's are built. */
    @Override
    public void close() {
        for (INDArray[] group : new INDArray[][] {aug, d1, g, m, w, mw}) {
            for (INDArray a : group) {
                free(a, null);
            }
        }
        for (INDArray[] row : s) {
            for (INDArray a : row) {
                free(a, null);
            }
        }
    }

    /** {@code d z_j / d z_k}, {@code [S, out_k, out_j]}, for k &lt; j (recursively, cached). */
    INDArray s(int k, int j) {
        if (s[k][j] == null) {
            if (j == k + 1) {
                // diag(s_k') W_j per sample
                long ok = d1[k].size(1);
                s[k][j] = d1[k].reshape(samples, ok, 1).mul(w[j].reshape(1, ok, w[j].size(1)));
            } else {
                INDArray prev = s(k, j - 1);
                long ok = prev.size(1);
                long oj1 = prev.size(2);
                INDArray scaled = prev.mul(d1[j - 1].reshape(samples, 1, oj1));
                s[k][j] = MatMulKernel.gemm(scaled.reshape('c', new long[] {samples * ok, oj1}), w[j], false, false)
                        .reshape('c', new long[] {samples, ok, w[j].size(1)});
                scaled.close();
            }
        }
        return s[k][j];
    }

    /**
     * {@code R_kj^T = (S_kj M_j)^T} for adjacent layers {@code j = k + 1}, {@code [S, out_j, out_k]}:
     * {@code M_j W_j^T diag(s_k')} per sample (M_j is symmetric), from the product the backward
     * recursion already formed; one broadcast multiply.
     */
    INDArray adjacentRTransposed(int k) {
        long ok = d1[k].size(1);
        return mw[k + 1].mul(d1[k].reshape(samples, 1, ok));
    }

    /** {@code d a_j / d z_k = S_k,j-1 diag(s'_{j-1})} for k &lt; j - 1, {@code [S, out_k, in_j]} (the augmented input's bias entry has none). */
    INDArray inputJacobian(int k, int j) {
        if (j < k + 2) {
            throw new IllegalArgumentException("inputJacobian is for non-adjacent layers, got " + k + ", " + j);
        }
        INDArray base = s(k, j - 1);
        return base.mul(d1[j - 1].reshape(samples, 1, base.size(2)));
    }
}
