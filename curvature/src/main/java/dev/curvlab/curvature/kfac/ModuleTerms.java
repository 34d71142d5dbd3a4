package dev.curvlab.curvature.kfac;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.ConvGeometry;
import dev.curvlab.core.Ops;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.VjpResult;
import dev.curvlab.nn.model.Conv2d;
import dev.curvlab.nn.model.Layer;
import dev.curvlab.nn.model.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The per-sample Kronecker terms of every parametric layer of any {@link Sequential} (dense, conv,
 * pooling, flatten) over a chunk of S inputs, computed with the generic autodiff engine:
 * <ul>
 * <li>{@code inputs(l): [S, T, rows]}: the augmented inputs {@code u_{i,t} = [patch_{i,t}, 1]} of
 *     layer l at each of its T positions (a dense layer: T = 1, the input itself);</li>
 * <li>{@code columns(l): [S, C, T, cols]}: {@code b_{i,c,t} = (d f_i / d z_{l,t})^T r_{i,c}}, the
 *     output-space columns {@code r_{i,c}} ({@link ColumnBlock}: {@code H_i = sum_c sign r r^T})
 *     pulled back to the pre-activations of layer l at position t.</li>
 * </ul>
 * The pullback is one forward-over-reverse pass of the engine: the network is evaluated with a zero
 * perturbation {@code eps_l} added to every pre-activation z_l, and the C cotangent columns are pulled
 * back to all {@code eps_l} at once ({@link VjpResult#pullbackBlock}). Then the Jacobian of sample i's
 * outputs in layer l's parameters (kron order, {@link ParametricLayers}) applied to {@code r_{i,c}} is
 * {@code M_{i,c} = sum_t u_{i,t} b_{i,c,t}^T = U_i^T B_{i,c}} ({@code [rows, cols]}).
 */
final class ModuleTerms {
    final INDArray[] inputs;
    final INDArray[] columns;
    final INDArray signs;
    final INDArray outputs;

    private ModuleTerms(INDArray[] inputs, INDArray[] columns, INDArray signs, INDArray outputs) {
        this.inputs = inputs;
        this.columns = columns;
        this.signs = signs;
        this.outputs = outputs;
    }

    /**
     * The terms of layers {@code first..} at inputs x for the output columns that {@code columnsOf} gives
     * for the network outputs f ({@code [S, C, out]}, signs {@code [S, C]} or null).
     */
    static ModuleTerms of(Sequential model, ParametricLayers layers, INDArray theta, INDArray x, Function<INDArray, ColumnBlock> columnsOf,
            int first) {
        INDArray[] u = new INDArray[layers.count()];
        INDArray[] b = new INDArray[layers.count()];
        long s = x.size(0);
        long[] zSizes = new long[layers.count()];
        long total = 0;
        for (int l = 0; l < layers.count(); l++) {
            ParametricLayers.Entry e = layers.get(l);
            zSizes[l] = e.cols() * e.positions();
            total += zSizes[l];
        }
        Tensor th = Tensor.of(theta);
        Tensor xt = Tensor.of(x.castTo(DataType.DOUBLE));
        long totalSize = total;
        INDArray[] captured = new INDArray[layers.count()];
        VjpResult r = Autodiff.vjp(eps -> perturbedForward(model, layers, th, xt, eps, zSizes, captured), Tensor.of(
                Nd4j.zeros(DataType.DOUBLE, s, totalSize)));
        INDArray f = r.value().array();
        ColumnBlock cols = columnsOf.apply(f);
        long c = cols.count();
        INDArray block = cols.columns().permute(1, 0, 2).dup('c');
        INDArray pulled = r.pullbackBlock(Tensor.of(block)).array();                      // [C, S, total]
        long at = 0;
        for (int l = 0; l < layers.count(); l++) {
            ParametricLayers.Entry e = layers.get(l);
            if (l >= first) {
                INDArray part = pulled.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(at, at + zSizes[l]));
                // z_l is [F, T] per sample (conv, channels first) or [out] (dense): to [S, C, T, F]
                b[l] = part.dup('c').reshape('c', new long[] {c, s, e.cols(), e.positions()}).permute(1, 0, 3, 2).dup('c');
                u[l] = augmented(captured[l], e);
            }
            at += zSizes[l];
        }
        Buffers.free(pulled, block, cols.columns());
        return new ModuleTerms(u, b, cols.signs(), f);
    }

    /** {@code [S, T, rows]}: the unfolded patches (conv) or the input (dense) with a column of ones. */
    private static INDArray augmented(INDArray patches, ParametricLayers.Entry e) {
        long s = patches.size(0);
        INDArray p = patches.reshape('c', new long[] {s * e.positions(), e.rows() - 1});
        INDArray u = Nd4j.hstack(p, Nd4j.ones(DataType.DOUBLE, s * e.positions(), 1));
        return u.reshape('c', new long[] {s, e.positions(), e.rows()});
    }

    /**
     * The network with {@code eps} ({@code [S, sum_l cols_l T_l]}) added to each parametric layer's
     * pre-activations; records each layer's (concrete) patches or inputs in {@code captured}.
     */
    private static Tensor perturbedForward(Sequential model, ParametricLayers layers, Tensor theta, Tensor x, Tensor eps, long[] zSizes,
            INDArray[] captured) {
        Tensor a = model.hasImageInput() && x.rank() == 2
                ? x.reshape(x.size(0), model.inputShape()[0], model.inputShape()[1], model.inputShape()[2]) : x;
        long s = x.size(0);
        long at = 0;
        int l = 0;
        List<Layer> modules = model.modules();
        for (int m = 0; m < modules.size(); m++) {
            Layer layer = modules.get(m);
            if (layer.parameterShapes().isEmpty()) {
                a = layer.apply(a, List.of());
                continue;
            }
            List<Tensor> params = parameters(theta, layer, layers.get(l).offset());
            Tensor z;
            if (layer instanceof Conv2d conv) {
                ConvGeometry g = conv.geometry(new long[] {a.size(1), a.size(2), a.size(3)});
                captured[l] = Ops.unfold(Tensor.of(a.array()), g).array();
                z = Ops.conv2d(a, params.get(0), params.get(1), conv.stride(), conv.padding());
            } else {
                captured[l] = a.array();
                z = a.matmul(params.get(0)).add(params.get(1));
            }
            Tensor e = eps.slice(1, at, at + zSizes[l]).reshape(z.shape());
            a = layer.activation().apply(z.add(e));
            at += zSizes[l];
            l++;
        }
        return a;
    }

    /** The layer's parameter blocks as views of theta in their shapes (W then b). */
    private static List<Tensor> parameters(Tensor theta, Layer layer, long offset) {
        List<Tensor> out = new ArrayList<>();
        long at = offset;
        for (long[] shape : layer.parameterShapes()) {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            out.add(theta.slice(0, at, at + n).reshape(shape));
            at += n;
        }
        return out;
    }

    long samples() {
        return columns[columns.length - 1].size(0);
    }

    void free() {
        Buffers.free(inputs);
        Buffers.free(columns);
    }
}
