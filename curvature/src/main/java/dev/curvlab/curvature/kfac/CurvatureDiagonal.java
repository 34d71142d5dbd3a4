package dev.curvlab.curvature.kfac;

import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.model.Dense;
import dev.curvlab.nn.model.Sequential;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Exact diagonals of curvature matrices of the mean loss of a dense chain, {@code [N]}, in
 * O(N + chunk) memory. Layer l's diagonal block is {@code sum_i (u_i u_i^T) kron M_i} with
 * {@code M_i = sum_c sign_c b_c b_c^T} the per-sample curvature in the pre-activations z_l, so its
 * diagonal is {@code ((U.^2)^T D)[i, o]} with {@code D[s, o] = M_s[o, o]}: one GEMM per layer.
 * <ul>
 * <li>GGN: {@code M_l = J^T H J}, the output Hessian's root pulled back ({@link Kfac}).</li>
 * <li>Hessian: {@code M_l = D_l W_{l+1} M_{l+1} W_{l+1}^T D_l + diag(gamma_l)} with
 *     {@code gamma_l = (g_{l+1} W_{l+1}^T) . s_l''} (at the output {@code gamma_L = (d l / d f) . s_L''}),
 *     {@code g} the gradient in z: each layer's diag(gamma) becomes a new signed column block
 *     {@code sqrt|gamma| e_o} that is pulled back with the others. This is the diagonal block of the
 *     exact Hessian (the cross-layer terms of the Hessian never reach a diagonal block).</li>
 * <li>MC Fisher: the GGN's recursion from sampled-label gradients ({@link KfacVariant#MC}).</li>
 * </ul>
 */
public final class CurvatureDiagonal {
    private CurvatureDiagonal() {
    }

    public static INDArray compute(DiagonalKind kind, Sequential model, Loss loss, Dataset data, INDArray theta, int samples, long seed,
            ProgressListener progress) {
        if (!model.isDenseChain()) {
            return ConvKfac.diagonal(kind, model, loss, data, theta, samples, seed, progress);
        }
        List<Dense> ls = model.layers();
        int layers = ls.size();
        SampleChunks chunks = new SampleChunks(model, loss, data, theta);
        INDArray[] d = new INDArray[layers];
        long widthSum = 0;
        for (int l = 0; l < layers; l++) {
            d[l] = Nd4j.zeros(DataType.DOUBLE, ls.get(l).in() + 1, ls.get(l).out());
            widthSum += ls.get(l).out();
        }
        KfacVariant variant = kind == DiagonalKind.MC_FISHER ? KfacVariant.MC : KfacVariant.EXACT;
        long columns = kind == DiagonalKind.MC_FISHER ? samples : kind == DiagonalKind.HESSIAN ? model.outputSize() + widthSum : model.outputSize();
        double scale = 1.0 / loss.normalizer(data.n(), model.outputSize());
        INDArray targets = loss.prepare(data.y(), model.outputSize()).array();
        long[] row = {0};
        chunks.forEach(variant, samples, seed, kind == DiagonalKind.HESSIAN, columns, progress, "diagonal (" + kind.id() + ")", (pass, cols) -> {
            INDArray outputGradient = null;
            if (kind == DiagonalKind.HESSIAN) {
                long s = pass.samples();
                INDArray y = targets.rank() == 1 ? targets.get(NDArrayIndex.interval(row[0], row[0] + s))
                        : targets.get(NDArrayIndex.interval(row[0], row[0] + s), NDArrayIndex.all());
                outputGradient = OutputColumns.gradient(loss, pass.output, y.dup('c')).muli(scale);
                row[0] += s;
            }
            accumulate(pass, cols, outputGradient, ls, d);
        });
        return flatten(model, d);
    }

    /**
     * Adds one chunk's diagonal blocks to {@code d}: the output columns pulled back layer by layer
     * and, when {@code outputGradient} ({@code d L / d f}, mean loss) is given (Hessian), each layer's
     * activation-curvature block.
     */
    private static void accumulate(ChainPass pass, ColumnBlock cols, INDArray outputGradient, List<Dense> ls, INDArray[] d) {
        int layers = ls.size();
        List<ColumnBlock> blocks = new ArrayList<>();
        blocks.add(new ColumnBlock(pass.toPreActivations(cols.columns()), cols.signs()));
        INDArray g = null;
        if (outputGradient != null) {
            g = outputGradient.mul(pass.slopes[layers - 1]);
            addCurvatureBlock(blocks, outputGradient.mul(pass.curvatures[layers - 1]), ls.get(layers - 1));
        }
        for (int l = layers - 1; l >= 0; l--) {
            INDArray diag = null;
            for (ColumnBlock b : blocks) {
                INDArray part = b.diagonals(null);
                diag = diag == null ? part : diag.addi(part);
            }
            INDArray u2 = pass.inputs[l].mul(pass.inputs[l]);
            Nd4j.gemm(u2, diag, d[l], true, false, 1.0, 1.0);
            Buffers.free(u2, diag);
            if (l > 0) {
                List<ColumnBlock> next = new ArrayList<>();
                for (ColumnBlock b : blocks) {
                    next.add(new ColumnBlock(pass.down(l, b.columns()), b.signs()));
                    Buffers.free(b.columns());
                }
                if (g != null) {
                    INDArray pre = pass.toInputs(l, g.reshape(g.size(0), 1, g.size(1))).reshape(g.size(0), ls.get(l).in());
                    addCurvatureBlock(next, pre.mul(pass.curvatures[l - 1]), ls.get(l - 1));
                    g = pre.muli(pass.slopes[l - 1]);
                }
                blocks = next;
            }
        }
        for (ColumnBlock b : blocks) {
            Buffers.free(b.columns());
        }
    }

    /** The per-layer diagonals {@code [in+1, out]} laid out as the flat parameter vector {@code [N]}. */
    private static INDArray flatten(Sequential model, INDArray[] d) {
        INDArray out = Nd4j.create(DataType.DOUBLE, model.parameterCount());
        long off = 0;
        for (INDArray x : d) {
            out.get(NDArrayIndex.interval(off, off + x.length())).assign(x.reshape('c', new long[] {x.length()}));
            off += x.length();
        }
        return out;
    }

    /** Adds diag(gamma) as signed columns {@code sqrt|gamma_o| e_o} (nothing for piecewise-linear activations). */
    private static void addCurvatureBlock(List<ColumnBlock> blocks, INDArray gamma, Dense layer) {
        if (layer.activation().isPiecewiseLinear()) {
            return;
        }
        long s = gamma.size(0);
        long w = gamma.size(1);
        INDArray cols = Nd4j.zeros(DataType.DOUBLE, s, w, w);
        OutputColumns.diagonalView(cols).assign(org.nd4j.linalg.ops.transforms.Transforms.sqrt(org.nd4j.linalg.ops.transforms.Transforms.abs(gamma, true), false));
        INDArray signs = org.nd4j.linalg.ops.transforms.Transforms.sign(gamma, true);
        blocks.add(new ColumnBlock(cols, signs));
    }
}
